import type { Deps } from '../../src/deps';
import { allShards, newOrderId, productShard, shardKeys } from '../../src/infra/shards';
import { charityKeyspace, streamCharitiesKey } from '../../src/allocator';
import { sumPartials } from '../../src/allocator/totals.read';

/** Where the service keeps a product's hot state (its shard), for tests that look at Redis directly. */
export const productKeys = (deps: Deps, productId: string) => productShard(deps.config.redis.prefix, productId);
export const stockKey = (deps: Deps, productId: string) => productKeys(deps, productId).stock(productId);
export const boughtKey = (deps: Deps, productId: string, viewerId: string) => productKeys(deps, productId).bought(productId, viewerId);
/** A totals, chain-head, match-budget or agreement key of one charity (under its tag {tot:<charityId>}). */
export const totKey = (deps: Deps, charityId: string, ...parts: string[]) => charityKeyspace(deps, charityId)(...parts);
/** A stream's totals hash as readers see it: the sum of its charities' partials. */
export async function streamTotalsHash(deps: Deps, streamId: string): Promise<Record<string, string>> {
  const charities = await deps.redis.smembers(streamCharitiesKey(deps, streamId));
  return sumPartials(await Promise.all(charities.map((c) => deps.redis.hgetall(charityKeyspace(deps, c)(`tot:s:${streamId}`)))));
}
/** An order id for a product's shard that no request made (a stray reservation). */
export const strayOrderId = (productId: string) => newOrderId(productId);

/** Members of every shard's expiry index or outbox. */
export async function countInShards(deps: Deps, which: 'expiring' | 'outbox'): Promise<number> {
  const n = await Promise.all(allShards().map((s) => deps.redis.zcard(shardKeys(deps.config.redis.prefix, s)[which])));
  return n.reduce((a, b) => a + b, 0);
}
