import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import { orderScripts, publishTransitions } from './orders.store';

/**
 * Ends a reservation and returns its stock: 'expired' when it is due (the sweeper), 'cancelled' when its
 * order.placed never reached Kafka. The transition's event goes through the outbox; publishing is tried
 * at once and otherwise left to the sweeper. Answers whether this call made the transition.
 */
export async function releaseReservation(deps: Deps, orderId: string, kind: 'expired' | 'cancelled', idemHash = ''): Promise<boolean> {
  const [outcome] = await orderScripts(deps.redis).lgReleaseOrder(
    deps.config.redis.prefix, orderId, `evt_${randomBytes(12).toString('base64url')}`, new Date().toISOString(), kind, idemHash,
  );
  if (outcome !== 'OK') return false;
  await publishTransitions(deps, [{ orderId, type: `order.${kind}` }]).catch((err) =>
    deps.logger.warn({ err: (err as Error).message, orderId }, `order.${kind} left in the outbox for the sweeper`));
  return true;
}
