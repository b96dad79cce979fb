import { createHash } from 'node:crypto';
import type { Deps } from '../deps';
import { DomainError, ErrorCode } from '../infra/errors';
import { newOrderId, productShard, viewerShard } from '../infra/shards';
import { fromHash, idemKeyHash, orderOfReply, orderKeys, orderScripts, publishTransitions, OrderSnapshot, newEventId } from './orders.store';
import { releaseReservation, unclaimOrder } from './release-order';

export interface PlaceOrderInput { viewerId: string; idempotencyKey: string; streamId: string; productId: string; quantity: number }

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
export { idemKeyHash };
/** A claim this old whose order is still missing was left by a request that died between its two steps. */
const ORPHAN_CLAIM_MS = 3000;

/**
 * Reserves stock for a viewer in two Redis scripts: the viewer's (idempotency key, open-order cap), then the
 * product's (stream, per-buyer limit, stock, pledge snapshot), each atomic in its own slot; a refusal of the
 * second gives the first back. Then publishes order.placed; if Kafka does not take it, the reservation is
 * released and the answer is 503.
 */
export async function placeOrder(deps: Deps, input: PlaceOrderInput): Promise<{ order: OrderSnapshot; replay: boolean }> {
  if (deps.state.rebuilding) throw unavailable();
  const bodyHash = sha256(JSON.stringify([input.streamId, input.productId, input.quantity]));
  const orderId = newOrderId(input.productId);
  const ttlMs = await paymentWindowMs(deps, input);
  const now = Date.now();
  const v = viewerShard(deps.config.redis.prefix, input.viewerId);
  const keyHash = idemKeyHash(input.idempotencyKey);
  const claim = await orderScripts(deps.redis).lgClaimOrder(
    v.sentinel, v.idem(input.viewerId, keyHash), v.open(input.viewerId), v.viewer(input.viewerId),
    orderId, bodyHash, deps.config.orders.idempotencyTtlSeconds, now + ttlMs, deps.config.orders.maxOpenPerViewer, now,
  );
  if (claim[0] === 'REPLAY') return { order: await settledReplay(deps, input, claim[1], Number(claim[2]), bodyHash), replay: true };
  if (claim[0] !== 'OK') throw refusal(deps, claim[0] as ErrorCode, claim[1]);
  const reply = await reserve(deps, input, orderId, bodyHash, claim[1], ttlMs);
  if (reply[0] === 'EXISTS') return { order: await settledReplay(deps, input, orderId, now, bodyHash), replay: true };
  const order = orderOfReply(reply);
  try {
    await publishTransitions(deps, [{ orderId, type: 'order.placed', order }]);
  } catch (err) {
    deps.logger.warn({ err: (err as Error).message, orderId }, 'order.placed not acknowledged; releasing the reservation');
    await releaseReservation(deps, orderId, 'cancelled', 'unpublished').catch(() => undefined);
    throw new DomainError('UNAVAILABLE', 'the order could not be recorded; nothing was reserved, please retry', undefined, 1);
  }
  deps.metrics.ordersPlaced.inc();
  return { order, replay: false };
}

/** The agreement each product's terms name, as this process last saw it (the script checks it, and answers the new one if it moved). */
const agreementOfProduct = new Map<string, string>();

async function productAgreement(deps: Deps, productId: string): Promise<string> {
  const key = deps.config.redis.prefix + productId;
  let id = agreementOfProduct.get(key);
  if (id === undefined) {
    id = (await deps.redis.hget(productShard(deps.config.redis.prefix, productId).product(productId), 'agreementId')) ?? '';
    if (agreementOfProduct.size > 100_000) agreementOfProduct.clear();
    agreementOfProduct.set(key, id);
  }
  return id;
}

/** The product's step under a claimed order id; a refusal frees the viewer's claim (the key may be used again). */
async function reserve(deps: Deps, input: PlaceOrderInput, orderId: string, bodyHash: string, nick: string, ttlMs: number): Promise<string[]> {
  const p = productShard(deps.config.redis.prefix, input.productId);
  let reply: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const agreementId = await productAgreement(deps, input.productId);
    const now = Date.now();
    reply = await orderScripts(deps.redis).lgPlaceOrder(
      p.sentinel, p.stream(input.streamId), p.pins(input.streamId), p.product(input.productId), p.bought(input.productId, input.viewerId),
      p.stock(input.productId), p.order(orderId), p.expiring, p.outbox, p.held, p.agreement(agreementId),
      input.viewerId, input.streamId, input.productId, input.quantity, bodyHash, orderId, now, ttlMs, newEventId(),
      new Date(now).toISOString(), new Date(now + ttlMs).toISOString(), input.idempotencyKey, nick, agreementId,
    );
    // the product's pledge names another agreement since this process last looked: once more with that one's key
    if (reply[0] !== 'AGREEMENT_MOVED') break;
    agreementOfProduct.set(deps.config.redis.prefix + input.productId, reply[1]);
  }
  if (reply[0] === 'OK' || reply[0] === 'EXISTS') return reply;
  // refused: nothing was reserved, so the key and the open-order place go back (a crash here leaves a claim
  // that a retry of the same key takes over, and a place that ends at the order's expiry by itself)
  await unclaimOrder(deps, input.viewerId, orderId, idemKeyHash(input.idempotencyKey), true);
  throw refusal(deps, reply[0] as ErrorCode, reply[1]);
}

/** Streams' payment windows, fixed when a stream is created: read once per process from the stream's copy. */
const windows = new Map<string, number>();

/** How long the order may stay unpaid: the stream's shorter window for a flash sale, else LIVEGIVE_ORDER_TTL_SECONDS. */
async function paymentWindowMs(deps: Deps, input: PlaceOrderInput): Promise<number> {
  const ttlMs = deps.config.orders.ttlSeconds * 1000;
  const key = deps.config.redis.prefix + input.streamId;
  let s = windows.get(key);
  if (s === undefined) {
    const [status, win] = await deps.redis.hmget(productShard(deps.config.redis.prefix, input.productId).stream(input.streamId), 'status', 'paymentWindowSeconds');
    s = Number(win ?? 0);
    if (status) { if (windows.size > 100_000) windows.clear(); windows.set(key, s); }
  }
  return s > 0 ? Math.min(ttlMs, s * 1000) : ttlMs;
}

function unavailable() {
  return new DomainError('UNAVAILABLE', 'orders are paused while state is rebuilt', undefined, 2);
}

function refusal(deps: Deps, code: ErrorCode, detail: string | undefined): DomainError {
  if (code !== 'UNAVAILABLE') deps.metrics.ordersRefused.inc({ code });
  switch (code) {
    case 'UNAVAILABLE': return unavailable();
    case 'IDEMPOTENCY_KEY_REUSED': return new DomainError(code, 'this Idempotency-Key was used for a different order');
    case 'OPEN_ORDERS_LIMIT': return new DomainError(code, `you already hold ${detail} unpaid orders; pay or cancel one first`, { maxOpenOrders: Number(detail) });
    case 'NOT_ON_SALE':
      if (detail === 'agreement') return new DomainError(code, 'this product\'s pledge has no accepted agreement in force for this stream', { reason: 'agreement' });
      return new DomainError(code, detail === 'stream' ? 'the stream is not live' : 'this product is not on sale in this stream');
    case 'CAP_REACHED': return new DomainError(code, 'the pledge agreement\'s cap is reached: this product no longer sells');
    case 'PURCHASE_LIMIT': return new DomainError(code, `over the per-buyer limit for this product (${detail} more allowed)`, { remainingForBuyer: Number(detail) });
    case 'OUT_OF_STOCK': return new DomainError(code, 'sold out', { remaining: Number(detail) });
    default: return new DomainError('INTERNAL', 'unexpected order script answer');
  }
}

/**
 * A replayed key answers what the original request answers: it waits while the original's order.placed is
 * still unacknowledged, then gives the order, or 503 if the original was cancelled because Kafka refused it.
 * A claim whose order never appeared (its request died between the two steps) is completed by the replay,
 * under the claimed order id, so the key still names one order.
 */
async function settledReplay(deps: Deps, input: PlaceOrderInput, orderId: string, claimedMs: number, bodyHash: string): Promise<OrderSnapshot> {
  const k = orderKeys(deps, orderId);
  for (let i = 0; k && i < 250; i++) {
    // state and outbox in one snapshot (MULTI, one slot): read apart, a cancel landing between them looked like an ack
    const [[, h], [, waiting]] = (await deps.redis.multi()
      .hgetall(k.order(orderId))
      .zscore(k.outbox, `${orderId}|order.placed`)
      .exec()) as [[unknown, Record<string, string>], [unknown, string | null]];
    if (!h?.orderId && Date.now() - claimedMs > ORPHAN_CLAIM_MS) {
      const nick = (await deps.redis.get(viewerShard(deps.config.redis.prefix, input.viewerId).viewer(input.viewerId))) ?? '';
      const reply = await reserve(deps, input, orderId, bodyHash, nick, await paymentWindowMs(deps, input));
      if (reply[0] === 'OK') { await publishTransitions(deps, [{ orderId, type: 'order.placed', order: orderOfReply(reply) }]).catch(() => undefined); }
      continue;
    }
    if (h?.status === 'cancelled' && h.reason !== 'viewer') break;
    if (h?.orderId && waiting === null) return fromHash(h);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new DomainError('UNAVAILABLE', 'the original order with this key was not recorded; please retry', undefined, 1);
}
