import type { Deps } from '../deps';
import type { Stoppable } from '../app';
import { RemittancesRepository } from './remittance.models';
import { pendingRemittances } from './reserve-remittance';
import { publishRemitEvent, sentEventOf } from './create-remittance';

/** How long a remittance may stay pending before the sweeper looks at it (its publish is normally milliseconds). */
export const PENDING_GRACE_MS = 60_000;

/**
 * Repairs remittances an API process left half-done by dying: a reservation older than the grace period whose
 * document exists but whose entry is not in the chain is published again (same event id and bytes: the allocator
 * writes it once, however often it arrives); one whose document was never written is released. Answers what it did.
 */
export async function sweepRemittances(deps: Deps, now = Date.now()): Promise<{ republished: number; released: number }> {
  const repo = new RemittancesRepository(deps);
  let republished = 0;
  let released = 0;
  for (const p of await pendingRemittances(deps)) {
    if (now - p.atMs < PENDING_GRACE_MS) continue;
    const doc = await repo.byId(p.remittanceId);
    if (!doc) {
      await deps.redis.hdel(p.key, p.remittanceId);
      released++;
    } else if (doc.entrySeq === undefined) {
      await publishRemitEvent(deps, sentEventOf(doc));
      republished++;
    }
  }
  if (republished || released) deps.logger.warn({ republished, released }, 'remittance sweeper repaired pending remittances');
  return { republished, released };
}

/** The api role's loop around sweepRemittances. */
export async function startRemittanceSweeper(deps: Deps): Promise<Stoppable> {
  const timer = setInterval(() => void sweepRemittances(deps).catch((err: Error) => deps.logger.warn({ err: err.message }, 'remittance sweep failed')), Math.max(deps.config.orders.sweepIntervalMs, 5000));
  timer.unref();
  return { stop: async () => clearInterval(timer) };
}
