import { createHash, randomFillSync } from 'node:crypto';
import type Redis from 'ioredis';
import type { Deps } from '../deps';
import { maskName } from '../money';
import { eventTransition, ORDER_EVENT_VERSION, OrderEvent, OrderEventType, OrderStatus } from '../events';
import { orderShard, shardOfOrder, shardKeys } from '../infra/shards';
import { claimOrderLua, unclaimOrderLua, placeOrderLua, payOrderLua, releaseOrderLua, refundOrderLua } from './orders.lua';

type ScriptReply = string[];
interface OrderScripts {
  lgClaimOrder(...args: (string | number)[]): Promise<ScriptReply>;
  lgUnclaimOrder(...args: (string | number)[]): Promise<ScriptReply>;
  lgPlaceOrder(...args: (string | number)[]): Promise<ScriptReply>;
  lgPayOrder(...args: (string | number)[]): Promise<ScriptReply>;
  lgReleaseOrder(...args: (string | number)[]): Promise<ScriptReply>;
  lgRefundOrder(...args: (string | number)[]): Promise<ScriptReply>;
}

/** The order as Redis holds it: the pledge snapshot taken at order time plus its current state. */
export interface OrderSnapshot {
  orderId: string; status: OrderStatus; ver: number; viewerId: string; nick: string; streamId: string; productId: string;
  productName: string; hostId: string; charityId: string; charityName: string; quantity: number; unitPriceFen: number;
  pledgePerUnitFen: number; createdAt: string; expiresAt: string; paidAt?: string; paymentId?: string;
  idempotencyKey: string; bodyHash: string; cancelReason?: string; eventIds: Partial<Record<OrderEventType, string>>; eventTimes: Partial<Record<OrderEventType, string>>;
  /** units refunded and returned to stock so far, and each refund (refund n at index n - 1) */
  refundedQty?: number; restockedQty?: number; refunds?: RefundRecord[];
  /** the agreement the order sold under, and what it donates under its cap (absent: a pledge × quantity order from before agreements) */
  agreementId?: string; donationFen?: number; donationUnits?: number;
}

/** One refund of an order as the refund script recorded it (field rf:<n>). */
export interface RefundRecord { n: number; units: number; refundedAfter: number; eventId: string; at: string; restockedAfter: number; refundId: string }

/** Refund n at index n - 1; after a rebuild from MongoDB only the latest is known, so earlier indexes may be holes. */
function refundsOf(h: Record<string, string>): RefundRecord[] {
  const out: RefundRecord[] = [];
  for (let n = 1; n <= Number(h.refunds ?? 0); n++) {
    if (!h[`rf:${n}`]) continue;
    const [units, after, eventId, at, restocked, ...ref] = h[`rf:${n}`].split('|');
    out[n - 1] = { n, units: Number(units), refundedAfter: Number(after), eventId, at, restockedAfter: Number(restocked), refundId: ref.join('|') };
  }
  return out;
}

/**
 * Loads the scripts once per client (EVALSHA with a fallback to EVAL after a Redis restart). Each takes a
 * fixed number of KEYS, which a cluster client routes by; see orders.lua.ts for which.
 */
export function orderScripts(redis: Redis): Redis & OrderScripts {
  const r = redis as Redis & OrderScripts;
  if (typeof r.lgPlaceOrder !== 'function') {
    redis.defineCommand('lgClaimOrder', { numberOfKeys: 4, lua: claimOrderLua });
    redis.defineCommand('lgUnclaimOrder', { numberOfKeys: 2, lua: unclaimOrderLua });
    redis.defineCommand('lgPlaceOrder', { numberOfKeys: 11, lua: placeOrderLua });
    redis.defineCommand('lgPayOrder', { numberOfKeys: 5, lua: payOrderLua });
    redis.defineCommand('lgReleaseOrder', { numberOfKeys: 8, lua: releaseOrderLua });
    redis.defineCommand('lgRefundOrder', { numberOfKeys: 5, lua: refundOrderLua });
  }
  return r;
}

// 12 random bytes per event id, cut from a pool filled 256 ids at a time: one call into the CSPRNG per 256 events, not per event
const ID_BYTES = 12;
const idPool = Buffer.alloc(ID_BYTES * 256);
let idAt = idPool.length;

/** A new event id: "evt_" and 12 random bytes in base64url, as before. */
export function newEventId(): string {
  if (idAt === idPool.length) { randomFillSync(idPool); idAt = 0; }
  idAt += ID_BYTES;
  return `evt_${idPool.toString('base64url', idAt - ID_BYTES, idAt)}`;
}

/** How an Idempotency-Key is named in Redis (the key itself may be 255 characters of anything). */
export const idemKeyHash = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 32);

/** The keys of an order's shard (its id names it); null for an id that names none. */
export const orderKeys = (deps: Deps, orderId: string) => orderShard(deps.config.redis.prefix, orderId);

export async function readOrder(deps: Deps, orderId: string): Promise<OrderSnapshot | null> {
  const k = orderKeys(deps, orderId);
  if (!k) return null;
  const h = await deps.redis.hgetall(k.order(orderId));
  if (!h.orderId) return null;
  return fromHash(h);
}

/** The order a transition script appended to its reply (after the outcome and its detail). */
export function orderOfReply(reply: ScriptReply): OrderSnapshot {
  const h: Record<string, string> = {};
  for (let i = 2; i + 1 < reply.length; i += 2) h[reply[i]] = reply[i + 1];
  if (!h.orderId) throw new Error('order script reply carries no order');
  return fromHash(h);
}

export function fromHash(h: Record<string, string>): OrderSnapshot {
  const eventIds: OrderSnapshot['eventIds'] = {};
  const eventTimes: OrderSnapshot['eventTimes'] = {};
  for (const t of Object.keys(eventTransition) as OrderEventType[]) {
    if (h[`eid:${t}`]) eventIds[t] = h[`eid:${t}`];
    if (h[`at:${t}`]) eventTimes[t] = h[`at:${t}`];
  }
  return {
    orderId: h.orderId, status: h.status as OrderStatus, ver: Number(h.ver), viewerId: h.viewerId, nick: h.nick ?? '', streamId: h.streamId,
    productId: h.productId, productName: h.productName, hostId: h.hostId, charityId: h.charityId, charityName: h.charityName,
    quantity: Number(h.quantity), unitPriceFen: Number(h.unitPriceFen), pledgePerUnitFen: Number(h.pledgePerUnitFen),
    createdAt: h.createdAt, expiresAt: h.expiresAt, paidAt: h.paidAt || undefined, paymentId: h.paymentId || undefined,
    idempotencyKey: h.idempotencyKey, bodyHash: h.bodyHash, eventIds, eventTimes, ...(h.reason ? { cancelReason: h.reason } : {}),
    refundedQty: Number(h.refundedQty ?? (h.status === 'refunded' ? h.quantity : 0)), restockedQty: Number(h.restockedQty ?? 0), refunds: refundsOf(h),
    ...(h.agreementId ? { agreementId: h.agreementId, donationFen: Number(h.donationFen ?? 0), donationUnits: Number(h.donationUnits ?? 0) } : {}),
  };
}

/** The event of one transition, rebuilt the same way every time from the order's stored state (refund n: its own event). */
export function eventFor(o: OrderSnapshot, type: OrderEventType, refundNo?: number): OrderEvent | null {
  if (refundNo !== undefined) return refundEventFor(o, refundNo);
  // eid:order.refunded names the latest refund: never publish it as a whole-order refund
  if (type === 'order.refunded' && o.refunds?.length) return refundEventFor(o, o.refunds.length);
  const eventId = o.eventIds[type];
  const occurredAt = o.eventTimes[type];
  if (!eventId || !occurredAt) return null;
  const t = eventTransition[type];
  return {
    eventId, type, version: ORDER_EVENT_VERSION, occurredAt, orderId: o.orderId, orderVersion: t.orderVersion, status: t.status,
    charityId: o.charityId, charityName: o.charityName, streamId: o.streamId, productId: o.productId, productName: o.productName,
    hostId: o.hostId, viewerId: o.viewerId, buyerMasked: maskName(o.nick), quantity: o.quantity, unitPriceFen: o.unitPriceFen,
    pledgePerUnitFen: o.pledgePerUnitFen, totalFen: o.unitPriceFen * o.quantity, pledgeTotalFen: o.pledgePerUnitFen * o.quantity,
    createdAt: o.createdAt, expiresAt: o.expiresAt,
    ...(o.paidAt && type !== 'order.placed' && type !== 'order.expired' && type !== 'order.cancelled' ? { paidAt: o.paidAt } : {}),
    ...(o.paymentId && (type === 'order.paid' || type === 'order.refunded') ? { paymentId: o.paymentId } : {}),
    idempotencyKey: o.idempotencyKey, bodyHash: o.bodyHash,
    ...(o.agreementId ? { agreementId: o.agreementId, donationFen: o.donationFen ?? 0, donationUnits: o.donationUnits ?? 0 } : {}),
  };
}

/** Refund n of the order as its own order.refunded event: the units it refunds and where the order stands after it. */
function refundEventFor(o: OrderSnapshot, n: number): OrderEvent | null {
  const r = o.refunds?.[n - 1];
  const base = r && eventFor({ ...o, refunds: [], eventIds: { ...o.eventIds, 'order.refunded': r.eventId }, eventTimes: { ...o.eventTimes, 'order.refunded': r.at } }, 'order.refunded');
  if (!base) return null;
  return {
    ...base, orderVersion: 2 + n, status: r.refundedAfter === o.quantity ? 'refunded' : 'partially_refunded',
    refundNo: n, refundQuantity: r.units, refundedQuantity: r.refundedAfter, restockedQuantity: r.restockedAfter, ...(r.refundId ? { refundId: r.refundId } : {}),
  };
}

/** A transition waiting for Kafka: refund n of an order is its own item ("order.refunded#<n>" in the outbox). */
export interface Transition { orderId: string; type: OrderEventType; refundNo?: number; order?: OrderSnapshot }
const memberOf = (t: { orderId: string; type: string; refundNo?: number }) => `${t.orderId}|${t.type}${t.refundNo ? `#${t.refundNo}` : ''}`;

/** Produces the events of the given transitions and clears them from the outbox once acknowledged. */
export async function publishTransitions(deps: Deps, items: Transition[]): Promise<number> {
  const events: OrderEvent[] = [];
  for (const it of items) {
    const o = it.order ?? (await readOrder(deps, it.orderId));
    const e = o && eventFor(o, it.type, it.refundNo);
    if (e) events.push(e);
    // a caller that holds the order must publish its event: never answer 2xx for a transition not sent
    else if (it.order) throw new Error(`order ${it.orderId} has no ${it.type} event to publish`);
    else await clearOutbox(deps, [memberOf(it)]);
  }
  if (!events.length) return 0;
  await deps.producer.sendMany(deps.config.kafka.topics.orderEvents, events.map((e) => ({ key: e.charityId, value: JSON.stringify(e) })));
  for (const e of events) deps.metrics.orderTransitions.inc({ type: e.type });
  await clearOutbox(deps, events.map((e) => memberOf(e))).catch(() => undefined);
  return events.length;
}

/**
 * Removes acknowledged members from the outbox of each one's shard. The events of concurrent requests are
 * acknowledged by one produce batch, so their removals are gathered until the event loop's next check phase and
 * sent as one ZREM per shard for all of them (not one per request); each caller resumes once its own is done.
 */
function clearOutbox(deps: Deps, members: string[]): Promise<void> {
  const byShard = new Map<number, string[]>();
  for (const m of members) {
    const s = shardOfOrder(outboxItem(m).orderId);
    if (s !== null) (byShard.get(s) ?? byShard.set(s, []).get(s)!).push(m);
  }
  return Promise.all([...byShard].map(([s, ms]) => outboxRemovals(deps.redis).add(shardKeys(deps.config.redis.prefix, s).outbox, ms))).then(() => undefined);
}

/** Removals waiting for this turn's ZREMs, per outbox key (one gatherer per Redis client). */
class OutboxRemovals {
  private pending = new Map<string, { members: string[]; waiters: { resolve: () => void; reject: (e: unknown) => void }[] }>();
  private scheduled = false;

  constructor(private readonly redis: Redis) {}

  add(outbox: string, members: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const p = this.pending.get(outbox) ?? this.pending.set(outbox, { members: [], waiters: [] }).get(outbox)!;
      for (const m of members) p.members.push(m);
      p.waiters.push({ resolve, reject });
      if (!this.scheduled) { this.scheduled = true; setImmediate(() => this.flush()); }
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const [outbox, p] of batch) {
      this.redis.zrem(outbox, ...p.members).then(() => { for (const w of p.waiters) w.resolve(); }, (err) => { for (const w of p.waiters) w.reject(err); });
    }
  }
}

const removals = new WeakMap<Redis, OutboxRemovals>();
function outboxRemovals(redis: Redis): OutboxRemovals {
  return removals.get(redis) ?? removals.set(redis, new OutboxRemovals(redis)).get(redis)!;
}

/** An outbox member ("<orderId>|<type>" or "<orderId>|order.refunded#<n>") as the transition it stands for. */
export function outboxItem(member: string): Transition {
  const i = member.lastIndexOf('|');
  const [type, n] = member.slice(i + 1).split('#');
  return { orderId: member.slice(0, i), type: type as OrderEventType, ...(n ? { refundNo: Number(n) } : {}) };
}

/** Whether a transition's event is still waiting in the outbox for Kafka's acknowledgement. */
export async function isUnacknowledged(deps: Deps, orderId: string, type: OrderEventType, refundNo?: number): Promise<boolean> {
  const k = orderKeys(deps, orderId);
  return k !== null && (await deps.redis.zscore(k.outbox, memberOf({ orderId, type, refundNo }))) !== null;
}
