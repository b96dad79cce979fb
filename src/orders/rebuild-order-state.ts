import type { Deps } from '../deps';
import { CatalogRepository } from '../catalog';
import { restoreAgreementState } from '../agreements';
import { latestOrderStates } from './orders.models';
import { idemKeyHash, outboxItem, publishTransitions } from './orders.store';
import { slotBatches, unlinkMatching } from '../infra/redis';
import { allShards, shardKeys, shardOf, shardTag } from '../infra/shards';

const holdsStock = (status: string) => status === 'reserved' || status === 'paid' || status === 'refunded' || status === 'partially_refunded';
const eventOf = { reserved: 'placed', paid: 'paid', expired: 'expired', cancelled: 'cancelled', refunded: 'refunded', partially_refunded: 'refunded' } as const;

/** Waits until the projection group has consumed the whole order-event log (its committed offsets reach the end). */
export async function waitForProjection(deps: Deps, timeoutMs = 120_000): Promise<void> {
  const admin = deps.kafka.admin();
  await admin.connect();
  try {
    const topic = deps.config.kafka.topics.orderEvents;
    const groupId = `${deps.config.kafka.groupPrefix}.projection`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      const behind = ends.filter((e) => Number(e.high) > Math.max(0, done.get(e.partition) ?? 0));
      if (behind.length === 0) return;
      if (Date.now() > deadline) throw new Error(`projection still behind on ${behind.length} partition(s)`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Sends what the shards' outboxes still hold (Redis came back from its file, or a replica took over, with
 * transitions never acknowledged), so the log, and then MongoDB, has every transition Redis recorded.
 */
async function flushOutbox(deps: Deps, shards: number[]): Promise<number> {
  const members = (await Promise.all(shards.map((s) => deps.redis.zrange(shardKeys(deps.config.redis.prefix, s).outbox, '0', '-1')))).flat();
  const items = members.map(outboxItem);
  let sent = 0;
  for (let i = 0; i < items.length; i += 500) sent += await publishTransitions(deps, items.slice(i, i + 500));
  return sent;
}

/** Order-state keys of the given shards: orders, buyers' counts, idempotency claims, open orders, expiry, outbox. */
function orderStateKey(prefix: string, shards: Set<number>): (key: string) => boolean {
  const tags = new Set([...shards].map(shardTag));
  const esc = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^${esc}\\{([0-9a-f]{2})\\}:(order|bought|idem|open|expiring|outbox|held)(:|$)`);
  return (key) => { const m = re.exec(key); return !!m && tags.has(m[1]); };
}

/**
 * Rebuilds what Redis held for orders in the given shards (all by default) after it lost data: the catalog's
 * hot copies, every order's state, idempotency keys, open orders, per-buyer counts, pending expiries and
 * remaining stock, from MongoDB once the projection has caught up with the Kafka log. The shards' scripts
 * refuse (no sentinel) until the caller marks them whole again.
 */
export async function rebuildOrderState(deps: Deps, only: number[] = allShards()): Promise<{ orders: number; products: number; outboxSent: number }> {
  const shards = new Set(only);
  const prefix = deps.config.redis.prefix;
  const outboxSent = await flushOutbox(deps, only);
  await waitForProjection(deps);
  // Redis's order state becomes a function of MongoDB alone: whatever a restored file held beyond it
  // (a reservation whose event never reached Kafka) must not keep stock or be paid later
  const doomed = orderStateKey(prefix, shards);
  await unlinkMatching(deps.redis, `${prefix}{*}:*`, (k) => !doomed(k));
  const repo = new CatalogRepository(deps);
  for await (const s of repo.streams.find({})) await repo.cacheStream(s, only);
  const nicknames = new Map<string, string>();
  const w = slotBatches(deps.redis);
  for await (const v of repo.viewers.find({})) {
    nicknames.set(v._id, v.nickname);
    const k = shardKeys(prefix, shardOf(v._id));
    if (shards.has(k.shard)) await w.add(k.viewer(v._id), (p) => p.set(k.viewer(v._id), v.nickname));
  }
  const sold = new Map<string, number>();
  const bought = new Map<string, number>();
  const held = new Map<string, number>();
  let count = 0;
  const idemTtlMs = deps.config.orders.idempotencyTtlSeconds * 1000;
  const latest = await latestOrderStates(deps.db);
  for (const o of latest.values()) {
    const ps = shardKeys(prefix, shardOf(o.productId));
    const vs = shardKeys(prefix, shardOf(o.viewerId));
    if (shards.has(ps.shard)) {
      count++;
      const eventType = `order.${eventOf[o.status]}`;
      const key = ps.order(o.orderId);
      await w.add(key, (p) => p.hset(key, {
        orderId: o.orderId, status: o.status, ver: o.orderVersion, viewerId: o.viewerId, nick: nicknames.get(o.viewerId) ?? '', streamId: o.streamId, productId: o.productId,
        productName: o.productName, hostId: o.hostId, charityId: o.charityId, charityName: o.charityName, quantity: o.quantity,
        unitPriceFen: o.unitPriceFen, pledgePerUnitFen: o.pledgePerUnitFen, createdAt: o.createdAt, expiresAt: o.expiresAt,
        expMs: Date.parse(o.expiresAt), idempotencyKey: o.idempotencyKey, bodyHash: o.bodyHash,
        ...(o.paidAt ? { paidAt: o.paidAt, paymentId: o.paymentId ?? '' } : {}),
        ...(o.agreementId ? { agreementId: o.agreementId, donationFen: o.donationFen ?? 0, donationUnits: o.donationUnits ?? 0 } : {}),
        [`eid:${eventType}`]: o.lastEventId, [`at:${eventType}`]: o.updatedAt.toISOString(),
        // the latest numbered refund, so later refunds continue its count and a re-publish rebuilds its event
        ...(o.refundNo ? {
          refundedQty: o.refundedQuantity ?? o.quantity, restockedQty: o.restockedQuantity ?? 0, refunds: o.refundNo,
          [`rf:${o.refundNo}`]: `${o.refundQuantity}|${o.refundedQuantity}|${o.lastEventId}|${o.updatedAt.toISOString()}|${o.restockedQuantity ?? 0}|${o.refundId ?? ''}`,
        } : {}),
      }));
      if (holdsStock(o.status)) {
        // refunded units that went back to stock are on sale again
        sold.set(o.productId, (sold.get(o.productId) ?? 0) + o.quantity - (o.restockedQuantity ?? 0));
        const b = ps.bought(o.productId, o.viewerId);
        bought.set(b, (bought.get(b) ?? 0) + o.quantity);
      }
      if (o.status === 'reserved') {
        await w.add(ps.expiring, (p) => p.zadd(ps.expiring, Date.parse(o.expiresAt), o.orderId));
        held.set(ps.held, (held.get(ps.held) ?? 0) + o.quantity);
      }
    }
    if (shards.has(vs.shard)) {
      // as before the loss: a key answers with its order, unless the order was cancelled (Kafka refused it)
      const ttl = Date.parse(o.createdAt) + idemTtlMs - Date.now();
      const idem = vs.idem(o.viewerId, idemKeyHash(o.idempotencyKey));
      if (o.status !== 'cancelled' && ttl > 0) await w.add(idem, (p) => p.set(idem, `${o.orderId}|${o.bodyHash}`, 'PX', ttl));
      if (o.status === 'reserved') await w.add(vs.open(o.viewerId), (p) => p.zadd(vs.open(o.viewerId), Date.parse(o.expiresAt), o.orderId));
    }
  }
  for (const [key, units] of [...bought, ...held]) await w.add(key, (p) => p.set(key, units));
  await w.flush();

  let products = 0;
  const names = new Map<string, string>();
  const agreementShards = new Map<string, Set<number>>();
  for await (const p of repo.products.find({})) {
    const k = shardKeys(prefix, shardOf(p._id));
    if (p.pledge.agreementId) (agreementShards.get(p.pledge.agreementId) ?? agreementShards.set(p.pledge.agreementId, new Set()).get(p.pledge.agreementId)!).add(k.shard);
    if (!shards.has(k.shard)) continue;
    products++;
    if (!names.has(p.pledge.charityId)) names.set(p.pledge.charityId, (await repo.charityNames([p.pledge.charityId])).get(p.pledge.charityId) ?? '');
    await repo.cacheProductTerms(p, names.get(p.pledge.charityId)!);
    await deps.redis.set(k.stock(p._id), p.stock - (sold.get(p._id) ?? 0));
  }
  // the agreements' terms where their products sell, and the caps' used counters as the orders of record hold them
  const agreements = await restoreAgreementState(deps, shards, agreementShards, latest.values());
  deps.logger.info({ orders: count, products, agreements, outboxSent, shards: only.length }, 'order state rebuilt from MongoDB');
  return { orders: count, products, outboxSent };
}
