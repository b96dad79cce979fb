import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { merchantById } from './merchants';
import { merchantOrder, settlePayment, settleRefund } from './settle';
import { beijingTime, parseAlipayForm, verifyAlipaySignature } from './alipay.verify';
import { yuanToFen } from './yuan';

const fen = (params: Record<string, string>, field: string, required: boolean): number | null => {
  const v = params[field];
  if ((v === undefined || v === '') && !required) return null;
  const f = yuanToFen(v ?? '');
  if (f === null || f < 0) throw new DomainError('VALIDATION_FAILED', `${field} is not yuan with exactly two decimals`, [{ field, message: 'must be yuan written with two decimals, e.g. 12.30' }]);
  return f;
};

/**
 * An Alipay notification for the app its URL names: RSA2-verified with that app's Alipay public key, then
 * app_id, seller_id, out_trade_no and total_amount checked against livegive's records (yuan parsed exactly),
 * then the pay transition (TRADE_SUCCESS, TRADE_FINISHED) and, when refund_fee says so, the refund of the
 * units refunded so far (refund_fee is cumulative). TRADE_CLOSED without refund_fee is an unpaid close: nothing to do.
 */
export async function handleAlipayNotify(deps: Deps, appId: string, rawBody: Buffer | undefined): Promise<void> {
  const m = /^\d{6,32}$/.test(appId) ? await merchantById(deps, 'alipay', appId) : null;
  if (!m?.alipay) throw new DomainError('NOT_FOUND', 'no such merchant');
  const p = rawBody?.length ? parseAlipayForm(rawBody) : null;
  if (!p) throw new DomainError('BAD_NOTIFICATION', 'the body is not an Alipay notification form');
  const check = verifyAlipaySignature(p, m.alipay.alipayPublicKeyPem);
  if (!check.ok) throw new DomainError('BAD_SIGNATURE', `Alipay signature refused: ${check.reason}`);
  if (p.app_id !== m.alipay.appId || p.seller_id !== m.alipay.sellerId) throw new DomainError('MERCHANT_MISMATCH', 'the notification names another app or seller');
  if (!p.out_trade_no || !/^[\w.:-]{1,64}$/.test(p.trade_no ?? '')) throw new DomainError('VALIDATION_FAILED', 'out_trade_no and trade_no are required', [{ field: 'trade_no', message: 'required' }]);
  const totalFen = fen(p, 'total_amount', true)!;
  const refundFen = fen(p, 'refund_fee', false);
  const order = await merchantOrder(deps, m, p.out_trade_no);
  if (totalFen !== order.unitPriceFen * order.quantity) throw new DomainError('AMOUNT_MISMATCH', 'total_amount is not the order total', { expectedFen: order.unitPriceFen * order.quantity });
  const status = p.trade_status;
  if (status === 'TRADE_SUCCESS' || status === 'TRADE_FINISHED') {
    const paidAt = beijingTime(p.gmt_payment) ?? beijingTime(p.notify_time) ?? new Date();
    await settlePayment(deps, m, { orderId: order.orderId, providerRef: p.trade_no, amountFen: totalFen, paidAt, source: 'notification' });
  }
  if ((status === 'TRADE_SUCCESS' || status === 'TRADE_FINISHED' || status === 'TRADE_CLOSED') && refundFen) {
    // refund_fee is what was refunded in all: the id of that total makes a repeat of the same notice a no-op
    const refundId = /^[\w.:-]{1,64}$/.test(p.out_biz_no ?? '') ? p.out_biz_no : `alipay:${p.trade_no}:${refundFen}`;
    const at = beijingTime(p.gmt_refund) ?? beijingTime(p.notify_time) ?? new Date();
    await settleRefund(deps, m, { orderId: order.orderId, refundId, refundedTotalFen: refundFen, at, status: 'SUCCESS' });
  }
}
