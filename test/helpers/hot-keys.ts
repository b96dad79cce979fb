import type { Deps } from '../../src/deps';
import { allShards, newOrderId, productShard, shardKeys } from '../../src/infra/shards';
import { totalsKeyspace } from '../../src/allocator';

/** Where the service keeps a product's hot state (its shard), for tests that look at Redis directly. */
export const productKeys = (deps: Deps, productId: string) => productShard(deps.config.redis.prefix, productId);
export const stockKey = (deps: Deps, productId: string) => productKeys(deps, productId).stock(productId);
export const boughtKey = (deps: Deps, productId: string, viewerId: string) => productKeys(deps, productId).bought(productId, viewerId);
/** A totals, chain-head or match-budget key (all under the {tot} tag). */
export const totKey = (deps: Deps, ...parts: string[]) => totalsKeyspace(deps)(...parts);
/** An order id for a product's shard that no request made (a stray reservation). */
export const strayOrderId = (productId: string) => newOrderId(productId);

/** Members of every shard's expiry index or outbox. */
export async function countInShards(deps: Deps, which: 'expiring' | 'outbox'): Promise<number> {
  const n = await Promise.all(allShards().map((s) => deps.redis.zcard(shardKeys(deps.config.redis.prefix, s)[which])));
  return n.reduce((a, b) => a + b, 0);
}
