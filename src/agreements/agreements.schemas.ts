import { z, Id, PositiveFen, IsoTime, Fen } from '../infra/zod';
import { agreementStatuses, capModes } from './agreement.types';

export const ProposeAgreementBody = z.object({
  charityId: Id,
  perUnitFen: PositiveFen,
  capFen: PositiveFen.optional().openapi({ description: 'the most the agreement donates in all (fen)' }),
  capUnits: z.number().int().min(1).max(1_000_000_000).optional().openapi({ description: 'the most units that donate' }),
  onCap: z.enum(capModes).openapi({ description: 'once the cap is reached: later orders sell without a donation, or the products stop selling' }),
  productIds: z.array(Id).min(1).max(200).optional().openapi({ description: 'absent: any of the host\'s products whose pledge names the agreement' }),
  streamIds: z.array(Id).min(1).max(200).optional().openapi({ description: 'absent: any of the host\'s streams' }),
  validFrom: IsoTime,
  validTo: IsoTime,
  remitWithinDays: z.number().int().min(1).max(365),
}).strict().refine((b) => Date.parse(b.validFrom) < Date.parse(b.validTo), { path: ['validTo'], message: 'must be after validFrom' }).openapi('ProposeAgreement');

export const ListAgreementsQuery = z.object({ status: z.enum(agreementStatuses).optional() }).strict();
export const AgreementParams = z.object({ id: Id });

export const Agreement = z.object({
  id: z.string(), hostId: z.string(), charityId: z.string(), perUnitFen: Fen, capFen: Fen.nullable(), capUnits: z.number().int().nullable(),
  onCap: z.enum(capModes), productIds: z.array(z.string()).nullable(), streamIds: z.array(z.string()).nullable(),
  validFrom: z.string(), validTo: z.string(), remitWithinDays: z.number().int(), status: z.enum(agreementStatuses),
  migrated: z.boolean().openapi({ description: 'accepted on the charity\'s behalf at migration (or for a product listed without an agreement)' }),
  createdAt: z.string(), acceptedAt: z.string().optional(), declinedAt: z.string().optional(), suspendedAt: z.string().optional(),
  capUsedFen: Fen.optional().openapi({ description: 'capped agreements: donations reserved under the cap so far (orders placed, net of expiries, cancellations and refunds)' }),
  capUsedUnits: z.number().int().optional(),
}).openapi('Agreement');

const LayerFields = { pledgedFen: Fen, confirmedFen: Fen, remittedFen: Fen, acknowledgedFen: Fen, overdueFen: Fen };
export const AgreementWithLayers = Agreement.extend({
  ...LayerFields,
  hostName: z.string().openapi({ description: 'the host\'s display name (the consoles show who proposes)' }),
  charityName: z.string().openapi({ description: 'the charity\'s display name' }),
}).openapi('AgreementWithLayers');
export const AgreementList = z.object({ agreements: z.array(AgreementWithLayers) }).openapi('AgreementList');
