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
  remittances: z.array(z.object({
    seq: z.number().int(), kind: z.enum(['remittance', 'acknowledgement']), at: IsoTime, agreementId: z.string(), remittanceId: z.string(), amountFen: Fen,
    paidAt: IsoTime, reference: z.string(), coversFrom: z.number().int(), coversTo: z.number().int(), outcome: z.enum(['acknowledged', 'disputed']).optional(), reason: z.string().optional(),
  })).optional().openapi({ description: 'the period\'s remittance and acknowledgement entries (absent when none)' }),
  digest: Hash.openapi({ description: 'SHA-256 of the statement JSON without this field' }),
}).openapi('Statement');

export const PublicCharity = z.object({
  id: Id, name: z.string(), registrationNo: z.string(), totalFen: Fen, entries: z.number().int(), headSeq: z.number().int(), headHash: Hash,
  merkleRoot: Hash.openapi({ description: 'RFC 6962-style Merkle root over the hashes of entries 1..headSeq' }), blockSize: z.number().int(),
  statements: z.array(z.object({
    kind: z.enum(['quarter', 'agreement_end']), label: z.string().openapi({ example: '2026Q4' }), from: IsoTime, to: IsoTime, digest: Hash, headSeq: z.number().int(), closingFen: Fen, producedAt: IsoTime,
  })).openapi({ description: 'statements produced on schedule (each Asia/Shanghai quarter, and each ended agreement\'s term) with their digests: GET the statement for [from, to) and compare' }),
  latest: z.array(z.object({ seq: z.number().int(), kind: z.string(), amountFen: Fen, at: IsoTime, streamId: z.string(), productId: z.string(), productName: z.string() })),
}).openapi('PublicCharity');

const Proof = z.object({ leafIndex: z.number().int(), treeSize: z.number().int(), path: z.array(Hash) });
export const ChainLine = z.object({
  key: z.string(), charityId: Id, seq: z.number().int(), kind: z.string(), amountFen: Fen, salesFen: Fen, quantity: z.number().int(), orderId: Id,
  streamId: z.string().openapi({ description: 'empty on remittance and acknowledgement entries' }), productId: z.string(), hostId: Id, eventId: z.string(), matchId: z.string().nullable(), at: IsoTime, prevHash: Hash, hash: Hash,
  agreementId: Id.optional().openapi({ description: 'the pledge agreement (hashed, only when present)' }),
  remit: z.object({
    remittanceId: Id, amountFen: Fen, paidAt: IsoTime, reference: z.string(), coversFrom: z.number().int(), coversTo: z.number().int(),
    outcome: z.enum(['acknowledged', 'disputed']).optional(), reason: z.string().optional(),
  }).optional().openapi({ description: 'remittance and acknowledgement entries: the remittance (hashed)' }),
}).openapi('ChainEntry');
export const ReceiptBody = z.object({
  orderId: Id, charityId: Id, charityName: z.string(), amountFen: Fen, status: z.enum(['pending', 'allocated', 'partially_reversed', 'reversed']), orderStatus: z.string(),
  entrySeq: z.number().int().nullable(), entryHash: Hash.nullable(), proof: Proof.nullable(),
  entries: z.array(z.object({ entry: ChainLine, proof: Proof })),
  head: z.object({ seq: z.number().int(), hash: Hash, merkleRoot: Hash }),
  stage: z.enum(['pledged', 'confirmed', 'remitted', 'acknowledged']).optional().openapi({ description: 'how far the donation has got: pledged, confirmed (past the refund window), remitted (a remittance covers its entry), acknowledged (the charity confirmed that remittance)' }),
}).openapi('Receipt');

const LayersBody = z.object({ pledgedFen: Fen, confirmedFen: Fen, remittedFen: Fen, acknowledgedFen: Fen, overdueFen: Fen });
export const PublicAgreements = z.object({
  charityId: Id, name: z.string(), layers: LayersBody,
  agreements: z.array(z.object({
    id: Id, hostId: Id, hostName: z.string(), status: z.string(), migrated: z.boolean(), note: z.string().optional().openapi({ example: "accepted on the charity's behalf at migration" }),
    terms: z.object({
      perUnitFen: Fen, capFen: Fen.nullable(), capUnits: z.number().int().nullable(), onCap: z.string(), productIds: z.array(z.string()).nullable(), streamIds: z.array(z.string()).nullable(),
      validFrom: IsoTime, validTo: IsoTime, remitWithinDays: z.number().int(), validFromLocal: z.string(), validToLocal: z.string(),
    }),
    acceptedAt: IsoTime.optional(), acceptedAtLocal: z.string().optional(),
    layers: LayersBody,
    remittances: z.array(z.object({
      id: Id, amountFen: Fen, paidAt: IsoTime, paidAtLocal: z.string().openapi({ description: 'Asia/Shanghai' }), reference: z.string(), status: z.enum(['sent', 'acknowledged', 'disputed']),
      coversSeqs: z.object({ from: z.number().int(), to: z.number().int() }), createdAt: IsoTime, answeredAt: IsoTime.optional(), answeredAtLocal: z.string().optional(), reason: z.string().optional(),
      entrySeq: z.number().int().openapi({ description: 'the remittance entry in the charity\'s chain' }), answerSeq: z.number().int().optional().openapi({ description: 'the acknowledgement entry' }),
    }).passthrough()),
  })),
}).openapi('PublicAgreements');
