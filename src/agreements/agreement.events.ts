import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import type { AgreementDoc } from './agreement.types';

export const agreementEventTypes = ['agreement.proposed', 'agreement.accepted', 'agreement.declined', 'agreement.suspended'] as const;
export type AgreementEventType = (typeof agreementEventTypes)[number];

/** One agreement event on `livegive.agreement-events.v1`, keyed by charityId: the agreement as it stands after the step. */
export interface AgreementEvent {
  eventId: string;
  type: AgreementEventType;
  version: 1;
  occurredAt: string;
  agreementId: string;
  hostId: string;
  charityId: string;
  status: AgreementDoc['status'];
  perUnitFen: number;
  capFen: number | null;
  capUnits: number | null;
  onCap: AgreementDoc['onCap'];
  productIds: string[] | null;
  streamIds: string[] | null;
  validFrom: string;
  validTo: string;
  remitWithinDays: number;
  migrated: boolean;
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
