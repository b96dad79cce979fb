import { z, Id, PositiveFen, Fen, IsoTime } from '../infra/zod';
import { displayText } from '../infra/display-text';

export const IdParams = z.object({ id: Id });

/** An ISO time that is also a real date (no 2026-02-30). */
const realDay = (s: string) => { const [y, m, d] = [s.slice(0, 4), s.slice(5, 7), s.slice(8, 10)].map(Number); return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d; };
const RealTime = IsoTime.refine((s) => !Number.isNaN(Date.parse(s)) && realDay(s), 'must be a real date and time');

export const CreateRemittanceBody = z.object({
  agreementId: Id,
  amountFen: PositiveFen.openapi({ description: 'what the seller paid the charity, in fen; at most what the agreement has confirmed and not yet remitted', example: 50000 }),
  paidAt: RealTime.openapi({ description: 'when it was paid (not in the future)', example: '2026-12-01T08:00:00.000Z' }),
  reference: displayText(128).openapi({ description: 'the bank or payment reference', example: 'ICBC 20261201-000123' }),
}).strict().openapi('CreateRemittance');

export const DisputeBody = z.object({ reason: displayText(500).openapi({ example: '未收到该笔款项 not received' }) }).strict().openapi('DisputeRemittance');

export const Remittance = z.object({
  id: Id, agreementId: Id, charityId: Id, hostId: Id, amountFen: Fen, paidAt: IsoTime, reference: z.string(),
  status: z.enum(['sent', 'acknowledged', 'disputed']),
  coversSeqs: z.object({ from: z.number().int(), to: z.number().int() }).openapi({ description: 'the confirmed allocation entries (seqs in the charity\'s chain) it covers, oldest first' }),
  createdAt: IsoTime, answeredAt: IsoTime.optional(), reason: z.string().optional(),
}).openapi('Remittance');
