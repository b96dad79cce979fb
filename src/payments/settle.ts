import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { applyRefund, getOrder, payOrder, type OrderSnapshot } from '../orders';
import { onlyDuplicates } from '../infra/mongo';
import { PAYMENT_COLLECTIONS, shanghaiDay, type MerchantDoc, type ProviderPaymentDoc, type ProviderRefundDoc } from './payments.models';

/** The order a notification names, if it belongs to the merchant's host (another host's order is refused, not revealed). */
export async function merchantOrder(deps: Deps, m: MerchantDoc, orderId: string): Promise<OrderSnapshot> {
  const o = /^[A-Za-z0-9_-]{1,64}$/.test(orderId) ? await getOrder(deps, orderId) : null;
  if (!o) throw new DomainError('NOT_FOUND', 'no such order');
  if (o.hostId !== m.hostId) throw new DomainError('MERCHANT_MISMATCH', 'the order does not belong to this merchant\'s host');
  return o;
}

async function insertOnce<T extends { _id: string }>(deps: Deps, collection: string, doc: T): Promise<boolean> {
  try {
    await deps.db.collection<T>(collection).insertOne(doc as never);
    return true;
  } catch (err) {
    if (onlyDuplicates(err, 1)) return false;
    throw err;
  }
}

export interface ProviderPayment { orderId: string; providerRef: string; amountFen: number; paidAt: Date; source: ProviderPaymentDoc['source'] }

/** A provider's payment becomes the order slice's one pay transition, then is recorded for reconciliation (once per order). */
export async function settlePayment(deps: Deps, m: MerchantDoc, p: ProviderPayment) {
  await merchantOrder(deps, m, p.orderId);
  const answer = await payOrder(deps, { orderId: p.orderId, paymentId: `${m.provider}:${p.providerRef}`, amountFen: p.amountFen });
  await insertOnce<ProviderPaymentDoc>(deps, PAYMENT_COLLECTIONS.payments, {
    _id: `${m.provider}:${p.orderId}`, provider: m.provider, merchantId: m._id, orderId: p.orderId, providerRef: p.providerRef,
    amountFen: p.amountFen, day: shanghaiDay(p.paidAt), paidAt: p.paidAt.toISOString(), source: p.source, recordedAt: new Date(),
  });
  return answer;
}

export interface ProviderRefund {
  orderId: string; refundId: string; at: Date; status: ProviderRefundDoc['status'];
  /** this refund's amount (WeChat) … */
  amountFen?: number;
  /** … or everything refunded on the order so far (Alipay's refund_fee) */
  refundedTotalFen?: number;
}

/**
 * A provider's refund becomes the order slice's refund transition of whole units: the amount must be a whole
 * number of units (else AMOUNT_MISMATCH, nothing changes). ABNORMAL and CLOSED refunds are recorded only.
 */
export async function settleRefund(deps: Deps, m: MerchantDoc, r: ProviderRefund) {
  const o = await merchantOrder(deps, m, r.orderId);
  const fen = r.amountFen ?? r.refundedTotalFen ?? 0;
  if (fen <= 0 || fen % o.unitPriceFen !== 0 || fen > o.unitPriceFen * o.quantity) {
    throw new DomainError('AMOUNT_MISMATCH', 'the refund is not a whole number of the order\'s units', { unitPriceFen: o.unitPriceFen, refundFen: fen });
  }
  const units = fen / o.unitPriceFen;
  // a refund id already recorded is done, even if Redis has since lost the order's refund ids
  const done = r.status === 'SUCCESS' && (await deps.db.collection(PAYMENT_COLLECTIONS.refunds).findOne({ _id: `${m.provider}:${r.refundId}:SUCCESS` } as never, { projection: { _id: 1 } })); // by _id
  if (done) return null;
  const answer = r.status !== 'SUCCESS' ? null
    : await applyRefund(deps, r.amountFen !== undefined ? { orderId: r.orderId, units, refundId: r.refundId } : { orderId: r.orderId, refundedTotal: units, refundId: r.refundId });
  await insertOnce<ProviderRefundDoc>(deps, PAYMENT_COLLECTIONS.refunds, {
    _id: `${m.provider}:${r.refundId}:${r.status}`, provider: m.provider, merchantId: m._id, orderId: r.orderId, refundId: r.refundId,
    amountFen: answer?.refundQuantity !== undefined ? answer.refundQuantity * o.unitPriceFen : r.amountFen ?? fen,
    units: answer?.refundQuantity ?? units, status: r.status, day: shanghaiDay(r.at), recordedAt: new Date(),
  });
  return answer;
}
