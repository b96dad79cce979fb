import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Deps } from '../deps';
import { agreementStatuses, capModes, type AgreementDoc } from './agreement.types';

export const agreementEventTypes = ['agreement.proposed', 'agreement.accepted', 'agreement.declined', 'agreement.suspended'] as const;
export type AgreementEventType = (typeof agreementEventTypes)[number];

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
/**
 * One agreement event on `livegive.agreement-events.v1`, keyed by charityId: the agreement as it stands after the step,
 * as a consumer must check it (the ledger side); strict, so a field nobody knows is refused, not kept.
 */
export const AgreementEventSchema = z.object({
  eventId: z.string().regex(/^agevt_[A-Za-z0-9_-]{16}$/), type: z.enum(agreementEventTypes), version: z.literal(1), occurredAt: z.string().datetime(),
  agreementId: id, hostId: id, charityId: id, status: z.enum(agreementStatuses), perUnitFen: z.number().int().min(1),
  capFen: z.number().int().min(1).nullable(), capUnits: z.number().int().min(1).nullable(), onCap: z.enum(capModes),
  productIds: z.array(id).nullable(), streamIds: z.array(id).nullable(), validFrom: z.string().datetime(), validTo: z.string().datetime(),
  remitWithinDays: z.number().int().min(1).max(365), migrated: z.boolean(),
}).strict();
export type AgreementEvent = z.infer<typeof AgreementEventSchema>;

/** Parses a message value of the agreement topic; answers the reason instead of throwing (for a dead-letter topic). */
export function parseAgreementEvent(value: Buffer | string | null): { ok: true; event: AgreementEvent } | { ok: false; reason: string } {
  if (value === null) return { ok: false, reason: 'empty message' };
  let raw: unknown;
  try { raw = JSON.parse(value.toString()); } catch { return { ok: false, reason: 'not JSON' }; }
  const r = AgreementEventSchema.safeParse(raw);
  return r.success ? { ok: true, event: r.data } : { ok: false, reason: `invalid: ${r.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
}

export function agreementEvent(type: AgreementEventType, a: AgreementDoc): AgreementEvent {
  return {
    eventId: `agevt_${randomBytes(12).toString('base64url')}`, type, version: 1, occurredAt: new Date().toISOString(), agreementId: a._id,
    hostId: a.hostId, charityId: a.charityId, status: a.status, perUnitFen: a.perUnitFen, capFen: a.capFen, capUnits: a.capUnits, onCap: a.onCap,
    productIds: a.productIds, streamIds: a.streamIds, validFrom: a.validFrom.toISOString(), validTo: a.validTo.toISOString(),
    remitWithinDays: a.remitWithinDays, migrated: a.migrated,
  };
}

/**
 * Sends the event. The agreement document is the source of truth and is already written; the log is its audit trail,
 * so a refusal by Kafka is logged and the change stands (the ledger side reads documents, not only events).
 */
export async function publishAgreementEvent(deps: Deps, type: AgreementEventType, a: AgreementDoc): Promise<void> {
  const e = agreementEvent(type, a);
  await deps.producer.send(deps.config.kafka.topics.agreementEvents, { key: a.charityId, value: JSON.stringify(e) })
    .catch((err) => deps.logger.warn({ err: (err as Error).message, agreementId: a._id, type }, 'agreement event not acknowledged by Kafka'));
}
