import type { Deps } from '../deps';
import type { Principal } from '../infra/auth';
import { DomainError } from '../infra/errors';
import { readOrder } from './orders.store';
import { releaseOrder } from './release-order';

/**
 * A viewer cancels their own unpaid order: its stock returns at once, its place among the viewer's open
 * orders is freed, and order.cancelled goes out (consumers already handle it; nothing was allocated).
 * Twice gives the same answer; a paid, refunded or expired order cannot be cancelled.
 */
export async function cancelOrder(deps: Deps, principal: Principal, orderId: string): Promise<{ id: string; status: 'cancelled' }> {
  const o = await readOrder(deps, orderId);
  // another viewer's order is not found, not forbidden: its existence is not theirs to learn
  if (!o || principal.role !== 'viewer' || o.viewerId !== principal.id) throw new DomainError('NOT_FOUND', 'no such order');
  if (o.status === 'cancelled') return { id: orderId, status: 'cancelled' };
  if (o.status !== 'reserved') throw notCancellable(o.status);
  const r = await releaseOrder(deps, orderId, 'cancelled', 'viewer');
  if ('order' in r) return { id: orderId, status: 'cancelled' };
  if (r.skipped === 'unavailable') throw new DomainError('UNAVAILABLE', 'cancellations are paused while state is rebuilt', undefined, 2);
  if (r.skipped === 'cancelled') return { id: orderId, status: 'cancelled' };
  // it changed under us: paid or expired meanwhile
  throw notCancellable(r.skipped);
}

function notCancellable(status: string): DomainError {
  return new DomainError('ORDER_NOT_CANCELLABLE', `only an unpaid order can be cancelled (this one is ${status})`, { status });
}
