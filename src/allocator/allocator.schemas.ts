import { z, Id, PositiveFen, Fen, IsoTime } from '../infra/zod';
import { entryKinds } from './ledger.types';
import { displayText } from '../infra/display-text';

export const IdParams = z.object({ id: Id });

const Seq = z.coerce.number().int('must be a whole number').min(0).max(Number.MAX_SAFE_INTEGER);
export const LedgerQuery = z.object({
  after: Seq.default(0).openapi({ description: 'answer entries with seq greater than this' }),
  limit: z.coerce.number().int('must be a whole number').min(1).max(500).default(100),
}).strict();

export const LedgerEntryView = z.object({
  seq: z.number().int(), kind: z.enum(entryKinds), amountFen: Fen, orderId: z.string(), streamId: z.string(), productId: z.string(),
  hostId: z.string(), at: IsoTime, prevHash: z.string(), hash: z.string().openapi({ description: 'SHA-256 of canonicalEntry: every field here plus prevHash' }),
  charityId: z.string(), salesFen: Fen, quantity: z.number().int(), eventId: z.string(), matchId: z.string().nullable(),
  agreementId: z.string().optional().openapi({ description: 'the pledge agreement of the order (hashed, only when present)' }),
  remit: z.object({
    remittanceId: z.string(), amountFen: Fen, paidAt: IsoTime, reference: z.string(), coversFrom: z.number().int(), coversTo: z.number().int(),
    outcome: z.enum(['acknowledged', 'disputed']).optional(), reason: z.string().optional(),
  }).optional().openapi({ description: 'remittance and acknowledgement entries (amount 0): the remittance, hashed' }),
}).openapi('LedgerEntry');
export const LedgerPage = z.object({
  entries: z.array(LedgerEntryView),
  next: z.number().int().nullable().openapi({ description: 'pass as `after` for the next page; null on the last page' }),
}).openapi('LedgerPage');

export const CreateMatchBody = z.object({
  sponsorName: displayText(100).openapi({ example: '某某农业集团' }),
  streamId: Id,
  charityId: Id,
  ratioPercent: z.number().int('must be a whole percent').min(1).max(1000).openapi({ description: '100 = 1:1', example: 100 }),
  capFen: PositiveFen.openapi({ example: 100000 }),
}).strict().openapi('CreateMatch');
export const Match = z.object({
  id: z.string(), sponsorName: z.string(), streamId: z.string(), charityId: z.string(), ratioPercent: z.number().int(),
  capFen: Fen, remainingFen: Fen, matchedFen: Fen, createdAt: IsoTime,
}).openapi('Match');

export const StreamTotalsView = z.object({
  streamId: z.string(), seq: z.number().int(), status: z.string(), goalFen: Fen,
  salesFen: Fen, units: z.number().int(), orders: z.number().int(), donationFen: Fen, matchedFen: Fen, confirmedDonationFen: Fen,
  remittedFen: Fen.optional().openapi({ description: 'the stream\'s share of remittances (issue 15)' }), acknowledgedFen: Fen.optional(),
  byCharity: z.array(z.object({ charityId: z.string(), name: z.string(), donationFen: Fen, matchedFen: Fen })),
  byProduct: z.array(z.object({ productId: z.string(), name: z.string(), units: z.number().int(), donationFen: Fen })),
  matches: z.array(z.object({ matchId: z.string(), sponsorName: z.string(), charityId: z.string(), ratioPercent: z.number().int(), capFen: Fen, matchedFen: Fen, remainingFen: Fen })),
  recent: z.array(z.object({ buyer: z.string().openapi({ example: '张**' }), productName: z.string(), quantity: z.number().int(), donationFen: Fen, at: IsoTime })),
}).openapi('StreamTotals');
