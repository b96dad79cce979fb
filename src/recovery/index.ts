import type { Slice, Stoppable } from '../app';
import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { RedisWatch, RebuildStep } from './redis-watch';
import { rebuildOrderState } from '../orders';
import { rebuildStaleTotals, rebuildTotals } from '../allocator';
import { SHARDS } from '../infra/shards';
import { laneSafe } from '../infra/hot-lane';
import type { NextFunction, Request, Response } from 'express';

export { RedisWatch, sentinelKey } from './redis-watch';
export type { RebuildStep } from './redis-watch';

/**
 * What is rebuilt after Redis loses its state, in order: catalog hot copies, order states, stock and
 * idempotency keys (once the projection has consumed the Kafka log), then totals and match budgets from
 * the ledger. Exported so a test can add a step that holds the rebuild open.
 */
export const rebuildSteps: RebuildStep[] = [
  { name: 'orders', run: rebuildOrderState },
  // after a partial loss (one master of a cluster), only the charities whose own slot's server changed are rebuilt
  { name: 'totals', run: async (deps, shards) => (shards.length === SHARDS ? rebuildTotals(deps) : rebuildStaleTotals(deps)) },
];

const watching = new WeakMap<Deps, Promise<Stoppable>>();

/** One watch per process even when it runs both roles. */
function watch(deps: Deps): Promise<Stoppable> {
  let w = watching.get(deps);
  if (!w) {
    w = new RedisWatch(deps, rebuildSteps).start();
    watching.set(deps, w);
    return w;
  }
  return Promise.resolve({ stop: async () => undefined });
}

/** Paths that change order state in Redis: refused with 503 while it is rebuilt, so nothing acts on a half-built state. */
const guarded = ['/api/v1/orders', '/api/v1/payments/notify', '/api/v1/orders/:id/refund', '/api/v1/orders/:id/cancel', '/api/v1/payments/wechatpay/:mchid/notify', '/api/v1/payments/alipay/:appId/notify', '/api/v1/reconciliations'];

export const recoverySlice: Slice = {
  name: 'recovery',
  routes(api, deps) {
    for (const path of guarded) {
      // laneSafe: the hot lane steps aside while deps.state.rebuilding, so this guard sees every request it refuses
      api.router.post(path, laneSafe((_req: Request, _res: Response, next: NextFunction) => {
        next(deps.state.rebuilding ? new DomainError('UNAVAILABLE', 'paused while order state is rebuilt; please retry', undefined, 2) : undefined);
      }));
    }
  },
  background: watch,
  workers: watch,
};
