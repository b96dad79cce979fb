import type { Deps } from '../deps';
import { CatalogRepository } from '../catalog';

/**
 * Writes the catalog's hot copies back into Redis from MongoDB (product terms, stream status and pins,
 * viewer nicknames), which the order script reads. Stock is not touched: the orders rebuild owns it.
 */
export async function restoreCatalogCache(deps: Deps): Promise<{ products: number; streams: number; viewers: number }> {
  const repo = new CatalogRepository(deps);
  let products = 0;
  let streams = 0;
  let viewers = 0;
  const charityIds = await repo.products.distinct('pledge.charityId');
  const names = await repo.charityNames(charityIds as string[]);
  for await (const p of repo.products.find({})) {
    await repo.cacheProductTerms(p, names.get(p.pledge.charityId) ?? '');
    products++;
  }
  for await (const s of repo.streams.find({})) {
    await repo.cacheStream(s);
    streams++;
  }
  let batch: string[] = [];
  const flush = async () => { if (batch.length) await deps.redis.mset(batch); batch = []; };
  for await (const v of repo.viewers.find({}, { projection: { nickname: 1 } })) {
    // the catalog keeps nicknames at this key for the order script's masked buyer name
    batch.push(deps.key('viewer', v._id), v.nickname);
    viewers++;
    if (batch.length >= 2000) await flush();
  }
  await flush();
  return { products, streams, viewers };
}
