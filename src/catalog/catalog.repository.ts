import type { Collection } from 'mongodb';
import type { Deps } from '../deps';
import { allShards, productShard, shardKeys, viewerShard } from '../infra/shards';
import { catalogCollections, CharityDoc, HostDoc, ProductDoc, StreamDoc, ViewerDoc } from './catalog.models';

/**
 * Catalog of record in MongoDB, with hot copies in Redis that the order script reads atomically:
 * stream status and pins, product terms, and remaining stock. MongoDB is written first, then Redis.
 * A product's copies live in its shard (src/infra/shards.ts); a stream's in every shard, so each order
 * script finds the stream next to the product it sells.
 */
export class CatalogRepository {
  readonly charities: Collection<CharityDoc>;
  readonly hosts: Collection<HostDoc>;
  readonly viewers: Collection<ViewerDoc>;
  readonly products: Collection<ProductDoc>;
  readonly streams: Collection<StreamDoc>;

  constructor(private readonly deps: Deps) {
    const db = deps.db;
    this.charities = db.collection(catalogCollections.charities);
    this.hosts = db.collection(catalogCollections.hosts);
    this.viewers = db.collection(catalogCollections.viewers);
    this.products = db.collection(catalogCollections.products);
    this.streams = db.collection(catalogCollections.streams);
  }

  private get prefix() { return this.deps.config.redis.prefix; }

  /**
   * Writes the product's current terms where the order script reads them; later orders see them. While its
   * charity is inactive the hot copy holds no price, which the order script answers NOT_ON_SALE: every API
   * instance reads this one hash, so a deactivation stops the pledge everywhere at once. `charityActive` is
   * read from MongoDB when the caller does not pass it (a product edit, a rebuild).
   */
  async cacheProductTerms(p: ProductDoc, charityName: string, charityActive?: boolean): Promise<void> {
    const active = charityActive ?? (await this.isCharityActive(p.pledge.charityId));
    await this.writeTerms(p, charityName, active);
    // a deactivation landing meanwhile must win: it changed MongoDB before any hot copy, so a second look sees it
    if (charityActive === undefined && active && !(await this.isCharityActive(p.pledge.charityId))) await this.writeTerms(p, charityName, false);
  }

  private async isCharityActive(charityId: string): Promise<boolean> {
    return (await this.charities.findOne({ _id: charityId }, { projection: { active: 1 } }))?.active !== false;
  }

  private async writeTerms(p: ProductDoc, charityName: string, active: boolean): Promise<void> {
    const key = productShard(this.prefix, p._id).product(p._id);
    const terms = { perUnitFen: p.pledge.perUnitFen, charityId: p.pledge.charityId, charityName, name: p.name, hostId: p.hostId, limit: p.buyerLimit, charityActive: active ? 1 : 0 };
    // one key, one MULTI: no order sees a half-written copy
    const tx = active ? this.deps.redis.multi().hset(key, { ...terms, priceFen: p.priceFen }) : this.deps.redis.multi().hdel(key, 'priceFen').hset(key, terms);
    // the agreement the order script checks: '' none (not sold); no field: a product listed before agreements (sold as before)
    if (p.pledge.agreementId === undefined) tx.hdel(key, 'agreementId');
    else tx.hset(key, 'agreementId', p.pledge.agreementId ?? '');
    const failed = (await tx.exec())?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  /** A host's products whose pledge names the agreement (served by { hostId: 1 }; the pledge is filtered here). */
  async productsOfAgreement(hostId: string, agreementId: string): Promise<ProductDoc[]> {
    return (await this.products.find({ hostId }).toArray()).filter((p) => p.pledge.agreementId === agreementId); // query: products.byHost
  }

  async addStock(productId: string, units: number): Promise<number> {
    return this.deps.redis.incrby(productShard(this.prefix, productId).stock(productId), units);
  }

  /** The nickname the order script copies into each order (the viewer's shard). */
  async cacheViewer(viewerId: string, nickname: string): Promise<void> {
    await this.deps.redis.set(viewerShard(this.prefix, viewerId).viewer(viewerId), nickname);
  }

  async remaining(productIds: string[]): Promise<Map<string, number>> {
    if (productIds.length === 0) return new Map();
    // one GET each: on a cluster the products' counters sit in different slots
    const vals = await Promise.all(productIds.map((id) => this.deps.redis.get(productShard(this.prefix, id).stock(id))));
    return new Map(productIds.map((id, i) => [id, Number(vals[i] ?? 0)]));
  }

  /** Copies a stream's status and pins into every shard (a status change is rare; an order is not), or only `shards`. */
  async cacheStream(s: StreamDoc, shards: number[] = allShards()): Promise<void> {
    await Promise.all(shards.map(async (shard) => {
      const k = shardKeys(this.prefix, shard);
      const tx = this.deps.redis.multi()
        .hset(k.stream(s._id), { status: s.status, goalFen: s.goalFen, title: s.title, hostId: s.hostId, paymentWindowSeconds: s.paymentWindowSeconds ?? 0 })
        .del(k.pins(s._id));
      if (s.productIds.length) tx.sadd(k.pins(s._id), ...s.productIds);
      const res = await tx.exec();
      const failed = res?.find(([err]) => err);
      if (failed) throw failed[0];
    }));
  }

  async charityNames(ids: string[]): Promise<Map<string, string>> {
    const docs = ids.length ? await this.charities.find({ _id: { $in: [...new Set(ids)] } }, { projection: { name: 1 } }).toArray() : [];
    return new Map(docs.map((d) => [d._id, d.name]));
  }
}
