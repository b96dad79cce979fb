import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import { orderOfReply, orderScripts, publishTransitions } from './orders.store';

/**
 * Ends a reservation and returns its stock: 'expired' when it is due (the sweeper), 'cancelled' when its
 * order.placed never reached Kafka. The transition's event goes through the outbox; publishing is tried
 * at once and otherwise left to the sweeper. Answers whether this call made the transition.
 */
export async function releaseReservation(deps: Deps, orderId: string, kind: 'expired' | 'cancelled', idemHash = ''): Promise<boolean> {
  const reply = await orderScripts(deps.redis).lgReleaseOrder(
    deps.config.redis.prefix, orderId, `evt_${randomBytes(12).toString('base64url')}`, new Date().toISOString(), kind, idemHash,
  );
  if (reply[0] !== 'OK') return false;
  await publishTransitions(deps, [{ orderId, type: `order.${kind}`, order: orderOfReply(reply) }]).catch((err) =>
    deps.logger.warn({ err: (err as Error).message, orderId }, `order.${kind} left in the outbox for the sweeper`));
  return true;
}
