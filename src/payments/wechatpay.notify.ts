import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { apiV3KeyOf, merchantById } from './merchants';
import { merchantOrder, settlePayment, settleRefund } from './settle';
import { decryptResource, verifyWechatSignature, type WechatHeaders } from './wechatpay.verify';
import { WechatNotification, WechatRefund, WechatTransaction } from './wechatpay.schemas';

function parsed<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: (string | number)[]; message: string }[] } } }, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new DomainError('BAD_NOTIFICATION', `${what} is not as WeChat Pay sends it`, r.error.issues.slice(0, 5).map((i) => ({ field: i.path.join('.'), message: i.message })));
  return r.data;
}

/**
 * A WeChat Pay API v3 notification for the merchant its URL names: verified with that merchant's platform
 * keys and decrypted with its APIv3 key (never a key from the request), then translated into the order
 * slice's pay or refund transition. REFUND.ABNORMAL / CLOSED are recorded without reversal. Throws a
 * DomainError for anything refused; nothing changes then.
 */
export async function handleWechatNotify(deps: Deps, mchid: string, headers: WechatHeaders, rawBody: Buffer | undefined): Promise<void> {
  const m = /^\d{6,32}$/.test(mchid) ? await merchantById(deps, 'wechatpay', mchid) : null;
  if (!m?.wechatpay) throw new DomainError('NOT_FOUND', 'no such merchant');
  const keys = new Map(m.wechatpay.platformKeys.map((k) => [k.serial, k.publicKeyPem]));
  const check = verifyWechatSignature(headers, rawBody ?? Buffer.alloc(0), keys, Date.now() / 1000, deps.config.auth.paymentToleranceSeconds);
  if (!check.ok) throw new DomainError('BAD_SIGNATURE', `WeChat Pay signature refused: ${check.reason}`);
  let body: unknown;
  try { body = JSON.parse(rawBody!.toString('utf8')); } catch { throw new DomainError('BAD_NOTIFICATION', 'the body is not JSON'); }
  const n = parsed(WechatNotification, body, 'the notification');
  // a key that cannot be unsealed is livegive's misconfiguration (a 5xx), not the notification's fault
  const v3 = apiV3KeyOf(deps, m);
  let plain: unknown;
  try {
    plain = JSON.parse(decryptResource(v3, n.resource));
  } catch {
    throw new DomainError('DECRYPTION_FAILED', 'the resource does not decrypt and authenticate with this merchant\'s APIv3 key');
  }
  if (n.event_type === 'TRANSACTION.SUCCESS') {
    const t = parsed(WechatTransaction, plain, 'the transaction');
    if (t.mchid !== m.wechatpay.mchid || t.appid !== m.wechatpay.appid) throw new DomainError('MERCHANT_MISMATCH', 'the transaction names another merchant or app');
    if (t.trade_state !== 'SUCCESS') return; // only a success moves money
    await settlePayment(deps, m, { orderId: t.out_trade_no, providerRef: t.transaction_id, amountFen: t.amount.total, paidAt: new Date(t.success_time), source: 'notification' });
    return;
  }
  if (n.event_type.startsWith('REFUND.')) {
    const r = parsed(WechatRefund, plain, 'the refund');
    if (r.mchid !== m.wechatpay.mchid) throw new DomainError('MERCHANT_MISMATCH', 'the refund names another merchant');
    if (`REFUND.${r.refund_status}` !== n.event_type) throw new DomainError('BAD_NOTIFICATION', 'event_type and refund_status disagree');
    const order = await merchantOrder(deps, m, r.out_trade_no);
    if (r.amount.total !== order.unitPriceFen * order.quantity) throw new DomainError('AMOUNT_MISMATCH', 'the refund\'s order total is not the order total', { expectedFen: order.unitPriceFen * order.quantity });
    await settleRefund(deps, m, { orderId: r.out_trade_no, refundId: r.out_refund_no, amountFen: r.amount.refund, at: new Date(r.success_time ?? n.create_time ?? Date.now()), status: r.refund_status });
    return;
  }
  // other event types carry nothing livegive acts on; answered as taken so WeChat stops retrying
  deps.logger.info({ mchid, eventType: n.event_type }, 'WeChat Pay notification of an unhandled type ignored');
}
