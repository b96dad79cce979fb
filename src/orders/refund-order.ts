import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import type { Principal } from '../infra/auth';
import { DomainError } from '../infra/errors';
import { isUnacknowledged, orderKeys, orderOfReply, orderScripts, publishTransitions, readOrder } from './orders.store';

/** Refunds a paid order (its host or the operator) within the refund window; twice gives the same answer. */
export async function refundOrder(deps: Deps, principal: Principal, orderId: string): Promise<{ id: string; status: 'refunded' }> {
  const o = await readOrder(deps, orderId);
  if (!o || (principal.role !== 'operator' && !(principal.role === 'host' && principal.id === o.hostId))) throw new DomainError('NOT_FOUND', 'no such order');
  if (o.status === 'paid' && o.paidAt && Date.parse(o.paidAt) + deps.config.orders.refundWindowSeconds * 1000 < Date.now()) {
    throw new DomainError('ORDER_NOT_REFUNDABLE', 'the refund window has closed');
  }
  const k = orderKeys(deps, orderId)!;
  const reply = await orderScripts(deps.redis).lgRefundOrder(
    k.sentinel, k.order(orderId), k.outbox, orderId, `evt_${randomBytes(12).toString('base64url')}`, new Date().toISOString(),
  );
  const [outcome, detail] = reply;
  if (outcome === 'ORDER_NOT_REFUNDABLE') throw new DomainError('ORDER_NOT_REFUNDABLE', `only a paid order can be refunded (this one is ${detail})`);
  if (outcome === 'NOT_FOUND') throw new DomainError('NOT_FOUND', 'no such order');
  if (outcome === 'UNAVAILABLE') throw new DomainError('UNAVAILABLE', 'refunds are paused while state is rebuilt', undefined, 2);
  try {
    if (outcome === 'OK' || (await isUnacknowledged(deps, orderId, 'order.refunded'))) await publishTransitions(deps, [{ orderId, type: 'order.refunded', order: orderOfReply(reply) }]);
  } catch {
    throw new DomainError('UNAVAILABLE', 'refund recorded but not yet confirmed; please retry', undefined, 1);
  }
  return { id: orderId, status: 'refunded' };
}
