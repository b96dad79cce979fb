import { createHash, randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import type { Principal } from '../infra/auth';
import { DomainError } from '../infra/errors';
import { CatalogRepository } from '../catalog';
import { isUnacknowledged, orderKeys, orderOfReply, orderScripts, publishTransitions, readOrder, newEventId } from './orders.store';

export interface RefundRequest {
  orderId: string;
  /** units to refund; absent: all that is left */
  units?: number;
  /** for providers that report refunds cumulatively: the units refunded in total once this refund is in */
  refundedTotal?: number;
  /** a provider's refund id (out_refund_no) or the host's key: the same id again changes nothing */
  refundId?: string;
}

export interface RefundAnswer { id: string; status: 'refunded' | 'partially_refunded'; refundedQuantity: number; refundId?: string; refundQuantity?: number }

/** Refunds some or all units of a paid order (its host or the operator) within the refund window; a repeat with the same key answers the same. */
export async function refundOrder(deps: Deps, principal: Principal, orderId: string, opts: { quantity?: number; key?: string } = {}): Promise<RefundAnswer> {
  const o = await readOrder(deps, orderId);
  if (!o || (principal.role !== 'operator' && !(principal.role === 'host' && principal.id === o.hostId))) throw new DomainError('NOT_FOUND', 'no such order');
  if ((o.status === 'paid' || o.status === 'partially_refunded') && o.paidAt && Date.parse(o.paidAt) + deps.config.orders.refundWindowSeconds * 1000 < Date.now()) {
    throw new DomainError('ORDER_NOT_REFUNDABLE', 'the refund window has closed');
  }
  // the host's retry with the same Idempotency-Key is the same refund; without one, a fresh id
  // (hashed: an id fits the event's 128 characters whatever the key)
  const refundId = opts.key ? `rf_${createHash('sha256').update(`${principal.id}\n${opts.key}`).digest('base64url').slice(0, 22)}` : `rf_${randomBytes(12).toString('base64url')}`;
  return applyRefund(deps, { orderId, units: opts.quantity, refundId });
}

/**
 * The one refund transition (host, operator or a provider's refund notification): refunds units in Redis
 * atomically, never more than is left, and publishes that refund's own order.refunded event. Refunded units
 * return to stock when the product says so.
 */
export async function applyRefund(deps: Deps, r: RefundRequest): Promise<RefundAnswer> {
  const o = await readOrder(deps, r.orderId);
  const product = o ? await new CatalogRepository(deps).products.findOne({ _id: o.productId }, { projection: { restockOnRefund: 1 } }) : null;
  const k = orderKeys(deps, r.orderId);
  if (!o || !k) throw new DomainError('NOT_FOUND', 'no such order');
  const reply = await orderScripts(deps.redis).lgRefundOrder(
    k.sentinel, k.order(r.orderId), k.outbox, k.stock(o.productId), k.agreement(o.agreementId ?? ''), r.orderId, newEventId(), new Date().toISOString(),
    String(r.units ?? 0), r.refundId ?? '', product?.restockOnRefund ? '1' : '0', String(r.refundedTotal ?? 0),
  );
  const [outcome, detail] = reply;
  if (outcome === 'ORDER_NOT_REFUNDABLE') throw new DomainError('ORDER_NOT_REFUNDABLE', `only a paid order can be refunded (this one is ${detail})`);
  if (outcome === 'REFUND_EXCEEDS_REMAINING') throw new DomainError('REFUND_EXCEEDS_REMAINING', `the refund is larger than what is left to refund (${detail} units)`, { remainingQuantity: Number(detail) });
  if (outcome === 'NOT_FOUND') throw new DomainError('NOT_FOUND', 'no such order');
  if (outcome === 'UNAVAILABLE') throw new DomainError('UNAVAILABLE', 'refunds are paused while state is rebuilt', undefined, 2);
  const order = orderOfReply(reply);
  const n = Number(detail);
  try {
    if (n > 0 && (outcome === 'OK' || (await isUnacknowledged(deps, r.orderId, 'order.refunded', n)))) {
      await publishTransitions(deps, [{ orderId: r.orderId, type: 'order.refunded', refundNo: n, order }]);
    } else if (n === 0 && outcome === 'ALREADY' && (await isUnacknowledged(deps, r.orderId, 'order.refunded'))) {
      await publishTransitions(deps, [{ orderId: r.orderId, type: 'order.refunded', order }]);
    }
  } catch {
    throw new DomainError('UNAVAILABLE', 'refund recorded but not yet confirmed; please retry', undefined, 1);
  }
  return {
    id: r.orderId, status: order.status === 'refunded' ? 'refunded' : 'partially_refunded', refundedQuantity: order.refundedQty ?? 0,
    ...(order.refunds?.[n - 1]?.refundId ? { refundId: order.refunds[n - 1].refundId } : {}),
    ...(order.refunds?.[n - 1] ? { refundQuantity: order.refunds[n - 1].units } : {}),
  };
}
