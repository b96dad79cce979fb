import { z, Id, Fen, IsoTime } from '../infra/zod';

export const CharityParams = z.object({ id: Id });
export const OrderParams = z.object({ orderId: Id });

export const StatementQuery = z.object({
  from: IsoTime.openapi({ description: 'start of the period, inclusive', example: '2026-11-01T00:00:00.000Z' }),
  to: IsoTime.openapi({ description: 'end of the period, exclusive (at most three years after from)', example: '2026-12-01T00:00:00.000Z' }),
  format: z.enum(['json', 'csv', 'pdf']).default('json'),
}).strict();

export const PublicHeadQuery = z.object({
  seq: z.coerce.number().int().min(0).optional().openapi({ description: 'the head as it was at this entry number (to check an older receipt)' }),
}).strict();

const figures = { entries: z.number().int(), units: z.number().int(), allocatedFen: Fen, reversedFen: Fen, matchedFen: Fen, matchReversedFen: Fen, netFen: Fen };
const Hash = z.string().regex(/^[0-9a-f]{64}$/);

export const StatementBody = z.object({
  charityId: Id, charityName: z.string(), registrationNo: z.string(), from: IsoTime, to: IsoTime,
  openingFen: Fen, allocatedFen: Fen, reversedFen: Fen.openapi({ description: 'signed: reversals are negative' }), matchedFen: Fen, matchReversedFen: Fen,
  closingFen: Fen.openapi({ description: 'openingFen + allocatedFen + reversedFen + matchedFen + matchReversedFen' }),
  entries: z.number().int(), firstSeq: z.number().int().nullable(), lastSeq: z.number().int().nullable(),
  headSeq: z.number().int(), headHash: Hash,
  byStream: z.array(z.object({ streamId: Id, title: z.string(), ...figures })),
  byHost: z.array(z.object({ hostId: Id, name: z.string(), ...figures })),
  byProduct: z.array(z.object({ productId: Id, name: z.string(), ...figures })),
  digest: Hash.openapi({ description: 'SHA-256 of the statement JSON without this field' }),
}).openapi('Statement');

export const PublicCharity = z.object({
  id: Id, name: z.string(), registrationNo: z.string(), totalFen: Fen, entries: z.number().int(), headSeq: z.number().int(), headHash: Hash,
  merkleRoot: Hash.openapi({ description: 'RFC 6962-style Merkle root over the hashes of entries 1..headSeq' }), blockSize: z.number().int(),
  latest: z.array(z.object({ seq: z.number().int(), kind: z.string(), amountFen: Fen, at: IsoTime, streamId: Id, productId: Id, productName: z.string() })),
}).openapi('PublicCharity');

const Proof = z.object({ leafIndex: z.number().int(), treeSize: z.number().int(), path: z.array(Hash) });
export const ChainLine = z.object({
  key: z.string(), charityId: Id, seq: z.number().int(), kind: z.string(), amountFen: Fen, salesFen: Fen, quantity: z.number().int(), orderId: Id,
  streamId: Id, productId: Id, hostId: Id, eventId: z.string(), matchId: z.string().nullable(), at: IsoTime, prevHash: Hash, hash: Hash,
}).openapi('ChainEntry');
export const ReceiptBody = z.object({
  orderId: Id, charityId: Id, charityName: z.string(), amountFen: Fen, status: z.enum(['pending', 'allocated', 'partially_reversed', 'reversed']), orderStatus: z.string(),
  entrySeq: z.number().int().nullable(), entryHash: Hash.nullable(), proof: Proof.nullable(),
  entries: z.array(z.object({ entry: ChainLine, proof: Proof })),
  head: z.object({ seq: z.number().int(), hash: Hash, merkleRoot: Hash }),
}).openapi('Receipt');
