import type { Deps } from '../deps';
import { CatalogRepository } from '../catalog';
import { latestOrderStates } from './orders.models';
import { idemKeyHash } from './place-order';
import { outboxItem, publishTransitions } from './orders.store';
import { unlinkMatching } from '../infra/redis';

const holdsStock = (status: string) => status === 'reserved' || status === 'paid' || status === 'refunded' || status === 'partially_refunded';

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
 * Sends what the outbox still holds (Redis came back from its file with transitions never acknowledged),
 * so the log, and then MongoDB, has every transition this Redis recorded.
 */
async function flushOutbox(deps: Deps): Promise<number> {
  const members = await deps.redis.zrange(deps.key('outbox'), '0', '-1');
  const items = members.map(outboxItem);
  let sent = 0;
  for (let i = 0; i < items.length; i += 500) sent += await publishTransitions(deps, items.slice(i, i + 500));
  return sent;
}

/**
 * Rebuilds what Redis held for orders after it lost its data: the catalog's hot copies, every order's
 * state, idempotency keys, per-buyer counts, pending expiries and remaining stock, from MongoDB once
 * the projection has caught up with the Kafka log. Callers refuse orders until it returns.
 */
export async function rebuildOrderState(deps: Deps): Promise<{ orders: number; products: number; outboxSent: number }> {
  const outboxSent = await flushOutbox(deps);
  await waitForProjection(deps);
  // Redis's order state becomes a function of MongoDB alone: whatever a restored file held beyond it
  // (a reservation whose event never reached Kafka) must not keep stock or be paid later
  for (const pattern of ['order:*', 'bought:*', 'idem:*']) await unlinkMatching(deps.redis, deps.key(pattern));
  await deps.redis.unlink(deps.key('expiring'), deps.key('outbox'));
  const repo = new CatalogRepository(deps);
  const k = deps.key;
  for await (const s of repo.streams.find({})) await repo.cacheStream(s);
  const nicknames = new Map<string, string>();
  const viewers = deps.redis.pipeline();
  for await (const v of repo.viewers.find({})) { viewers.set(k('viewer', v._id), v.nickname); nicknames.set(v._id, v.nickname); }
  await viewers.exec();

  const sold = new Map<string, number>();
  const bought = new Map<string, number>();
  let count = 0;
  let pipe = deps.redis.pipeline();
  const idemTtlMs = deps.config.orders.idempotencyTtlSeconds * 1000;
  for (const o of (await latestOrderStates(deps.db)).values()) {
    count++;
    const eventType = `order.${{ reserved: 'placed', paid: 'paid', expired: 'expired', cancelled: 'cancelled', refunded: 'refunded', partially_refunded: 'refunded' }[o.status]}`;
    pipe.hset(k('order', o.orderId), {
      orderId: o.orderId, status: o.status, ver: o.orderVersion, viewerId: o.viewerId, nick: nicknames.get(o.viewerId) ?? '', streamId: o.streamId, productId: o.productId,
      productName: o.productName, hostId: o.hostId, charityId: o.charityId, charityName: o.charityName, quantity: o.quantity,
      unitPriceFen: o.unitPriceFen, pledgePerUnitFen: o.pledgePerUnitFen, createdAt: o.createdAt, expiresAt: o.expiresAt,
      expMs: Date.parse(o.expiresAt), idempotencyKey: o.idempotencyKey, bodyHash: o.bodyHash,
      ...(o.paidAt ? { paidAt: o.paidAt, paymentId: o.paymentId ?? '' } : {}),
      [`eid:${eventType}`]: o.lastEventId, [`at:${eventType}`]: o.updatedAt.toISOString(),
      // the latest numbered refund, so later refunds continue its count and a re-publish rebuilds its event
      ...(o.refundNo ? {
        refundedQty: o.refundedQuantity ?? o.quantity, restockedQty: o.restockedQuantity ?? 0, refunds: o.refundNo,
        [`rf:${o.refundNo}`]: `${o.refundQuantity}|${o.refundedQuantity}|${o.lastEventId}|${o.updatedAt.toISOString()}|${o.restockedQuantity ?? 0}|${o.refundId ?? ''}`,
      } : {}),
    });
    if (holdsStock(o.status)) {
      // refunded units that went back to stock are on sale again
      sold.set(o.productId, (sold.get(o.productId) ?? 0) + o.quantity - (o.restockedQuantity ?? 0));
      const b = k('bought', o.productId, o.viewerId);
      bought.set(b, (bought.get(b) ?? 0) + o.quantity);
    }
    // as before the loss: a key answers with its order, unless the order was cancelled (Kafka refused it)
    const ttl = Date.parse(o.createdAt) + idemTtlMs - Date.now();
    if (o.status !== 'cancelled' && ttl > 0) pipe.set(k('idem', o.viewerId, idemKeyHash(o.idempotencyKey)), `${o.orderId}|${o.bodyHash}`, 'PX', ttl);
    if (o.status === 'reserved') pipe.zadd(k('expiring'), Date.parse(o.expiresAt), o.orderId);
    if (count % 1000 === 0) { await pipe.exec(); pipe = deps.redis.pipeline(); }
  }
  for (const [key, units] of bought) pipe.set(key, units);
  await pipe.exec();

  let products = 0;
  const names = new Map<string, string>();
  for await (const p of repo.products.find({})) {
    products++;
    if (!names.has(p.pledge.charityId)) names.set(p.pledge.charityId, (await repo.charityNames([p.pledge.charityId])).get(p.pledge.charityId) ?? '');
    await repo.cacheProductTerms(p, names.get(p.pledge.charityId)!);
    await deps.redis.set(k('stock', p._id), p.stock - (sold.get(p._id) ?? 0));
  }
  deps.logger.info({ orders: count, products, outboxSent }, 'order state rebuilt from MongoDB');
  return { orders: count, products, outboxSent };
}
