import { z, Id, Fen, IsoTime } from '../infra/zod';

export const IdParams = z.object({ id: Id });
export const OrderSearchParams = z.object({ id: Id, orderId: Id });

export const Me = z.object({
  role: z.enum(['operator', 'host', 'charity', 'viewer']), id: z.string(), name: z.string(),
}).openapi('Me');

export const HostStream = z.object({
  id: z.string(), hostId: z.string(), title: z.string(), status: z.enum(['scheduled', 'live', 'ended']), goalFen: Fen,
  productIds: z.array(z.string()), createdAt: IsoTime, startedAt: IsoTime.nullable(), endedAt: IsoTime.nullable(),
}).openapi('HostStream');
export const HostStreams = z.object({ streams: z.array(HostStream) }).openapi('HostStreams');

export const HostProduct = z.object({
  id: z.string(), hostId: z.string(), name: z.string(), origin: z.string(), unit: z.string(), priceFen: Fen, stock: z.number().int(),
  remaining: z.number().int(), buyerLimit: z.number().int(), pledge: z.object({ charityId: z.string(), charityName: z.string(), perUnitFen: Fen }),
}).openapi('HostProduct');
export const HostProducts = z.object({ products: z.array(HostProduct) }).openapi('HostProducts');

export const Reservations = z.object({
  streamId: z.string(),
  open: z.number().int().openapi({ description: 'reservations placed and not yet paid, expired or cancelled' }),
  units: z.number().int().openapi({ description: 'units those reservations hold' }),
  expiring: z.array(z.object({ orderId: z.string(), productId: z.string(), productName: z.string(), quantity: z.number().int(), expiresAt: IsoTime }))
    .openapi({ description: 'the first 20 to expire, soonest first' }),
}).openapi('StreamReservations');

export const OrderEntries = z.object({
  orderId: z.string(),
  entries: z.array(z.object({
    seq: z.number().int(), kind: z.string(), amountFen: Fen, orderId: z.string(), streamId: z.string(), productId: z.string(),
    hostId: z.string(), at: IsoTime, prevHash: z.string(), hash: z.string(),
  })),
}).openapi('LedgerOrderEntries');

export const VerifyQuery = z.object({
  from: IsoTime.optional().openapi({ description: 'with to: also recompute the statement for [from, to)' }), to: IsoTime.optional(),
}).strict();
export const VerifyResult = z.object({
  charityId: z.string(), ok: z.boolean(), entries: z.number().int(), headSeq: z.number().int(), headHash: z.string(), totalFen: Fen, merkleRoot: z.string(),
  period: z.object({ from: IsoTime, to: IsoTime, openingFen: Fen, closingFen: Fen, entries: z.number().int() }).nullable(),
  problems: z.array(z.string()).openapi({ description: 'each mismatch in words, naming the entry or figure; empty when everything matches' }),
  checkedAt: IsoTime,
}).openapi('VerifyResult');
