import type { Deps } from '../deps';
import { viewerShard } from '../infra/shards';
import { idemKeyHash, orderKeys, orderOfReply, orderScripts, publishTransitions, OrderSnapshot, newEventId } from './orders.store';

export type ReleaseReason = 'unpublished' | 'viewer' | '';

/**
 * Ends a reservation and returns its stock: 'expired' when it is due (the sweeper), 'cancelled' when its
 * order.placed never reached Kafka ('unpublished') or its viewer cancelled it ('viewer'). The transition's
 * event goes through the outbox; publishing is tried at once and otherwise left to the sweeper. Answers the
 * order as released, or why nothing was done (its status, 'missing', 'not due').
 */
export async function releaseOrder(deps: Deps, orderId: string, kind: 'expired' | 'cancelled', reason: ReleaseReason = ''): Promise<{ order: OrderSnapshot } | { skipped: string }> {
  const k = orderKeys(deps, orderId);
  if (!k) return { skipped: 'missing' };
  // the keys of its product and buyer are named in the order, which never changes them
  const [productId, viewerId, agreementId] = await deps.redis.hmget(k.order(orderId), 'productId', 'viewerId', 'agreementId');
  if (!productId || !viewerId) {
    await deps.redis.zrem(k.expiring, orderId);
    return { skipped: 'missing' };
  }
  const reply = await orderScripts(deps.redis).lgReleaseOrder(
    k.sentinel, k.order(orderId), k.expiring, k.outbox, k.stock(productId), k.bought(productId, viewerId), k.held, k.agreement(agreementId ?? ''),
    orderId, newEventId(), new Date().toISOString(), kind, productId, viewerId, reason, agreementId ?? '',
  );
  if (reply[0] !== 'OK') return { skipped: reply[0] === 'UNAVAILABLE' ? 'unavailable' : reply[1] };
  const order = orderOfReply(reply);
  await unclaimOrder(deps, viewerId, orderId, idemKeyHash(order.idempotencyKey ?? ''), reason === 'unpublished').catch(() => undefined);
  await publishTransitions(deps, [{ orderId, type: `order.${kind}`, order }]).catch((err) =>
    deps.logger.warn({ err: (err as Error).message, orderId }, `order.${kind} left in the outbox for the sweeper`));
  return { order };
}

/** The older form: answers whether this call made the transition. */
export async function releaseReservation(deps: Deps, orderId: string, kind: 'expired' | 'cancelled', reason: ReleaseReason = ''): Promise<boolean> {
  return 'order' in (await releaseOrder(deps, orderId, kind, reason));
}

/**
 * Gives the viewer's open-order place back (paid, cancelled, expired); with dropClaim the idempotency key
 * too, when the order was refused or never recorded. Best effort: a lost call heals at the order's expiry.
 */
export async function unclaimOrder(deps: Deps, viewerId: string, orderId: string, keyHash: string, dropClaim: boolean): Promise<void> {
  const v = viewerShard(deps.config.redis.prefix, viewerId);
  await orderScripts(deps.redis).lgUnclaimOrder(v.idem(viewerId, keyHash), v.open(viewerId), orderId, dropClaim ? '1' : '0');
}
