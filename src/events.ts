import { z, datetimeRegex } from 'zod';

/**
 * The one typed map of everything that crosses a process boundary: Kafka order events (produced by the
 * orders slice, consumed by the projection and the allocator) and WebSocket feed frames.
 */

export const ORDER_EVENT_VERSION = 1 as const;

export const orderEventTypes = ['order.placed', 'order.paid', 'order.expired', 'order.cancelled', 'order.refunded'] as const;
export type OrderEventType = (typeof orderEventTypes)[number];

export const orderStatuses = ['reserved', 'paid', 'expired', 'cancelled', 'refunded', 'partially_refunded'] as const;
export type OrderStatus = (typeof orderStatuses)[number];

/** The state an event moves its order into, and the order's version after it (guards the projection). */
export const eventTransition: Record<OrderEventType, { status: OrderStatus; orderVersion: number }> = {
  'order.placed': { status: 'reserved', orderVersion: 1 },
  'order.paid': { status: 'paid', orderVersion: 2 },
  'order.expired': { status: 'expired', orderVersion: 2 },
  'order.cancelled': { status: 'cancelled', orderVersion: 2 },
  'order.refunded': { status: 'refunded', orderVersion: 3 },
};

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const fen = z.number().int().safe();
// zod's .datetime() builds this regex again on every check (1.7% of the workers' CPU): built once, same format
const ISO_DATETIME = datetimeRegex({ offset: true, precision: null, local: false });
const iso = z.string().regex(ISO_DATETIME, 'Invalid datetime');

/**
 * An order event: everything the projection and the allocator need, with the pledge snapshot taken
 * at order time. Keyed by charityId on `livegive.order-events.v1`.
 */
export const OrderEventSchema = z.object({
  eventId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/),
  type: z.enum(orderEventTypes),
  version: z.literal(ORDER_EVENT_VERSION),
  occurredAt: iso,
  orderId: id,
  /** 1 placed, 2 paid/expired/cancelled, 2 + n after the order's n-th refund (3 for a single whole refund, as before) */
  orderVersion: z.number().int().min(1).max(1_000_002),
  status: z.enum(orderStatuses),
  charityId: id,
  charityName: z.string().min(1).max(200),
  streamId: id,
  productId: id,
  productName: z.string().min(1).max(200),
  hostId: id,
  viewerId: id,
  /** the buyer's nickname masked for public display ("张**") */
  buyerMasked: z.string().max(64),
  quantity: z.number().int().min(1).max(1_000_000),
  unitPriceFen: fen.min(1),
  pledgePerUnitFen: fen.min(1),
  totalFen: fen.min(1),
  pledgeTotalFen: fen.min(1),
  createdAt: iso,
  expiresAt: iso,
  paidAt: iso.optional(),
  paymentId: z.string().max(128).optional(),
  /** the idempotency key and body hash that created the order, so Redis can be rebuilt from the log */
  idempotencyKey: z.string().min(1).max(255),
  bodyHash: z.string().max(128),
  /**
   * order.refunded only, added for partial refunds (absent in older events: the whole order was refunded):
   * which refund of the order this is (1, 2, …), the units it refunds, the units refunded so far including
   * it, the refund's id (a provider's out_refund_no or the host's; a repeat with the same id is a no-op),
   * and the units returned to stock so far.
   */
  refundNo: z.number().int().min(1).max(1_000_000).optional(),
  refundQuantity: z.number().int().min(1).max(1_000_000).optional(),
  refundedQuantity: z.number().int().min(1).max(1_000_000).optional(),
  refundId: z.string().regex(/^[\w.:#-]{1,128}$/).optional(),
  restockedQuantity: z.number().int().min(0).max(1_000_000).optional(),
  /**
   * Issue 15, absent in older events: the pledge agreement the order sold under, and what the order donates under
   * its cap (D, reserved at placing: 0 ≤ D ≤ pledgeTotalFen; absent = pledgeTotalFen) and the units that donate.
   */
  agreementId: id.optional(),
  donationFen: fen.min(0).optional(),
  donationUnits: z.number().int().min(0).max(1_000_000).optional(),
}).strict().superRefine((e, ctx) => {
  if (e.totalFen !== e.unitPriceFen * e.quantity) ctx.addIssue({ code: 'custom', path: ['totalFen'], message: 'must equal unitPriceFen × quantity' });
  if (e.pledgeTotalFen !== e.pledgePerUnitFen * e.quantity) ctx.addIssue({ code: 'custom', path: ['pledgeTotalFen'], message: 'must equal pledgePerUnitFen × quantity' });
  if (e.donationFen !== undefined && e.donationFen > e.pledgeTotalFen) ctx.addIssue({ code: 'custom', path: ['donationFen'], message: 'must not exceed pledgeTotalFen' });
  if (e.donationUnits !== undefined && e.donationUnits > e.quantity) ctx.addIssue({ code: 'custom', path: ['donationUnits'], message: 'must not exceed quantity' });
  if (e.pledgePerUnitFen > e.unitPriceFen) ctx.addIssue({ code: 'custom', path: ['pledgePerUnitFen'], message: 'must not exceed unitPriceFen' });
  const t = eventTransition[e.type];
  if (e.type === 'order.refunded' && e.refundNo !== undefined) {
    const { refundQuantity: units, refundedQuantity: done } = e;
    if (units === undefined || done === undefined || units > done || done > e.quantity) ctx.addIssue({ code: 'custom', path: ['refundQuantity'], message: 'a numbered refund carries 1 ≤ refundQuantity ≤ refundedQuantity ≤ quantity' });
    else if (e.status !== (done === e.quantity ? 'refunded' : 'partially_refunded') || e.orderVersion !== 2 + e.refundNo) ctx.addIssue({ code: 'custom', path: ['status'], message: 'refund n carries orderVersion 2 + n, and status refunded only once every unit is refunded' });
  } else if (e.status !== t.status || e.orderVersion !== t.orderVersion) ctx.addIssue({ code: 'custom', path: ['status'], message: `${e.type} must carry status ${t.status}, orderVersion ${t.orderVersion}` });
});

/** The units an order.refunded event gives back: its refundQuantity, or the whole order for an event without one (version-1 producers). */
export const refundUnits = (e: Pick<OrderEvent, 'quantity' | 'refundQuantity'>): number => e.refundQuantity ?? e.quantity;

export type OrderEvent = z.infer<typeof OrderEventSchema>;

/** What an order event donates: its donationFen (what the agreement's cap left it), else the full pledge. */
export const donationFenOf = (e: Pick<OrderEvent, 'donationFen' | 'pledgeTotalFen'>): number => e.donationFen ?? e.pledgeTotalFen;

export const remittanceEventTypes = ['remittance.sent', 'remittance.acknowledged', 'remittance.disputed'] as const;
export type RemittanceEventType = (typeof remittanceEventTypes)[number];

/**
 * A seller's remittance to a charity under an agreement, or the charity's answer to it (issue 15). On the order
 * events' topic, keyed by charityId like them: the allocator is the one writer of a charity's chain, so these reach it
 * in the same partition, in order with the charity's orders.
 */
export const RemittanceEventSchema = z.object({
  eventId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/),
  type: z.enum(remittanceEventTypes),
  version: z.literal(ORDER_EVENT_VERSION),
  occurredAt: iso,
  remittanceId: id,
  agreementId: id,
  charityId: id,
  hostId: id,
  amountFen: fen.min(1),
  paidAt: iso,
  /** the bank or payment reference the seller gave */
  reference: z.string().min(1).max(128),
  /** the allocation entries (seqs in the charity's chain) the remittance covers, oldest first */
  coversFrom: z.number().int().min(0),
  coversTo: z.number().int().min(0),
  /** the amount split by the streams of the covered entries (sums to amountFen) */
  byStream: z.record(id, fen.min(1)).optional(),
  /** remittance.disputed only */
  reason: z.string().min(1).max(500).optional(),
}).strict();
export type RemittanceEvent = z.infer<typeof RemittanceEventSchema>;

/** Everything on the order events' topic: the allocator folds all of it into the charity's chain. */
export type LogEvent = OrderEvent | RemittanceEvent;
export const isOrderEvent = (e: LogEvent): e is OrderEvent => e.type.startsWith('order.');

type Parsed<T> = { ok: true; event: T } | { ok: false; reason: string; notAnOrder?: true };

function parseWith<T>(value: Buffer | string | null, parse: (raw: unknown) => Parsed<T>): Parsed<T> {
  if (value === null) return { ok: false, reason: 'empty message' };
  let raw: unknown;
  try {
    raw = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  return parse(raw);
}

const issues = (err: z.ZodError) => `invalid: ${err.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
const isRemittanceType = (raw: unknown) => (remittanceEventTypes as readonly unknown[]).includes((raw as { type?: unknown } | null)?.type);

/**
 * Parses a Kafka message value; answers the reason instead of throwing, for the dead-letter topic. A valid
 * remittance event is not an order: it answers ok false with `notAnOrder`, which an order-only consumer (the
 * projection) skips rather than dead-letters.
 */
export function parseOrderEvent(value: Buffer | string | null): Parsed<OrderEvent> {
  return parseWith(value, (raw) => {
    if (isRemittanceType(raw) && RemittanceEventSchema.safeParse(raw).success) return { ok: false, reason: 'a remittance event, not an order event', notAnOrder: true };
    return orderFrom(raw);
  });
}

function orderFrom(raw: unknown): Parsed<OrderEvent> {
  const r = OrderEventSchema.safeParse(raw);
  return r.success ? { ok: true, event: r.data } : { ok: false, reason: issues(r.error) };
}

/** Parses any event of the order events' topic (orders, remittances, acknowledgements), for the allocator. */
export function parseLogEvent(value: Buffer | string | null): Parsed<LogEvent> {
  return parseWith(value, (raw): Parsed<LogEvent> => {
    if (!isRemittanceType(raw)) return orderFrom(raw);
    const r = RemittanceEventSchema.safeParse(raw);
    return r.success ? { ok: true, event: r.data } : { ok: false, reason: issues(r.error) };
  });
}

/** A dead-letter message value: the original bytes (base64) and why they could not be processed. */
export interface DeadLetter {
  reason: string;
  group: string;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  valueBase64: string | null;
  at: string;
}

/** Running totals of one stream, as `GET /api/v1/streams/:id/totals` answers and the feed sends. */
export interface StreamTotals {
  streamId: string;
  seq: number;
  status: string;
  goalFen: number;
  salesFen: number;
  units: number;
  orders: number;
  donationFen: number;
  matchedFen: number;
  /** donations past the refund window (the confirmed layer) */
  confirmedDonationFen: number;
  /** issue 15: the stream's share of remittances to charities (covered donations sold on it), and of those the charities acknowledged */
  remittedFen?: number;
  acknowledgedFen?: number;
  byCharity: { charityId: string; name: string; donationFen: number; matchedFen: number }[];
  byProduct: { productId: string; name: string; units: number; donationFen: number }[];
  matches: { matchId: string; sponsorName: string; charityId: string; ratioPercent: number; capFen: number; matchedFen: number; remainingFen: number }[];
  recent: { buyer: string; productName: string; quantity: number; donationFen: number; at: string }[];
}

export type FeedFrame =
  | { type: 'snapshot'; seq: number; totals: StreamTotals }
  | { type: 'totals'; seq: number; totals: StreamTotals };
