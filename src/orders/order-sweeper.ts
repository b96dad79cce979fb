import type { Deps } from '../deps';
import type { Stoppable } from '../app';
import { releaseReservation } from './release-order';
import { outboxItem, publishTransitions } from './orders.store';
import { allShards, shardKeys } from '../infra/shards';
import { readEach } from '../infra/redis';

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

/** The held-units gauge costs a read per shard: refreshed every few seconds, not every tick. */
const HELD_EVERY_MS = 5000;
const heldReadAt = new WeakMap<Deps, number>();

/** One pass over every shard's expiry index and outbox (each shard is one slot; their reads go out together). */
export async function sweepOnce(deps: Deps, batch = 500, opts: { readHeld?: boolean } = {}): Promise<{ expired: number; republished: number }> {
  const now = Date.now();
  let expired = 0;
  let republished = 0;
  const shards = allShards().map((s) => shardKeys(deps.config.redis.prefix, s));
  // one pipeline per master; a shard whose master is away (a failover under way) is skipped this tick, not the whole sweep
  const each = async (keys: string[], cmd: (p: ReturnType<Deps['redis']['pipeline']>, key: string) => unknown) =>
    (await readEach<string[] | string | null>(deps.redis, keys, cmd)).map((v) => (v instanceof Error || v === null ? [] : Array.isArray(v) ? v : [v]));
  const [due, stale] = await Promise.all([
    each(shards.map((k) => k.expiring), (p, key) => p.zrangebyscore(key, '-inf', now, 'LIMIT', 0, batch)),
    each(shards.map((k) => k.outbox), (p, key) => p.zrangebyscore(key, '-inf', now - deps.config.orders.republishAfterMs, 'LIMIT', 0, batch)),
  ]);
  if (opts.readHeld || now - (heldReadAt.get(deps) ?? 0) >= HELD_EVERY_MS) {
    heldReadAt.set(deps, now);
    const held = await each(shards.map((k) => k.held), (p, key) => p.get(key));
    deps.metrics.unitsHeldUnpaid.set(held.flat().reduce((n, v) => n + Number(v), 0));
  }
  for (const orderId of due.flat()) if (await releaseReservation(deps, orderId, 'expired').catch(() => false)) expired++;
  const items = stale.flat().map(outboxItem);
  for (let i = 0; i < items.length; i += batch) republished += await publishTransitions(deps, items.slice(i, i + batch));
  if (republished) deps.logger.info({ republished }, 're-published unacknowledged order events');
  return { expired, republished };
}
