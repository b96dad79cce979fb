import type { Deps } from '../deps';
import type { Stoppable } from '../app';
import { releaseReservation } from './release-order';
import { outboxItem, publishTransitions } from './orders.store';

/**
 * Background loop of the api role: expires reservations that are due (their stock returns) and
 * re-publishes outbox transitions that were never acknowledged (a crash or a Kafka outage in between).
 * Several instances may sweep at once; consumers ignore the duplicates.
 */
export async function startOrderSweeper(deps: Deps): Promise<Stoppable> {
  let running = true;
  let timer: NodeJS.Timeout | null = null;
  const tick = async () => {
    try {
      await sweepOnce(deps);
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'order sweep failed; will retry');
    }
    if (running) timer = setTimeout(tick, deps.config.orders.sweepIntervalMs);
  };
  timer = setTimeout(tick, deps.config.orders.sweepIntervalMs);
  return { stop: async () => { running = false; if (timer) clearTimeout(timer); } };
}

export async function sweepOnce(deps: Deps, batch = 500): Promise<{ expired: number; republished: number }> {
  const now = Date.now();
  let expired = 0;
  const due = await deps.redis.zrangebyscore(deps.key('expiring'), '-inf', now, 'LIMIT', 0, batch);
  for (const orderId of due) if (await releaseReservation(deps, orderId, 'expired')) expired++;
  const stale = await deps.redis.zrangebyscore(deps.key('outbox'), '-inf', now - deps.config.orders.republishAfterMs, 'LIMIT', 0, batch);
  const items = stale.map(outboxItem);
  const republished = items.length ? await publishTransitions(deps, items) : 0;
  if (republished) deps.logger.info({ republished }, 're-published unacknowledged order events');
  return { expired, republished };
}
