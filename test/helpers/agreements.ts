import { randomBytes } from 'node:crypto';
import type { Deps } from '../../src/deps';
import type { AgreementDoc } from '../../src/agreements/agreement.types';
import type { RemittanceEvent } from '../../src/events';

/** Inserts an accepted agreement straight into the `agreements` collection (the agreement routes are another slice's). */
export async function insertAgreement(deps: Deps, a: Partial<AgreementDoc> & { hostId: string; charityId: string }): Promise<AgreementDoc> {
  const now = new Date();
  const doc: AgreementDoc = {
    _id: `ag_${randomBytes(6).toString('hex')}`, perUnitFen: 100, capFen: null, capUnits: null, onCap: 'continue_without_donation', productIds: null, streamIds: null,
    validFrom: new Date(now.getTime() - 30 * 86_400_000), validTo: new Date(now.getTime() + 30 * 86_400_000), remitWithinDays: 3, status: 'accepted', migrated: false,
    createdAt: now, updatedAt: now, acceptedAt: now, ...a,
  };
  await deps.db.collection<AgreementDoc>('agreements').insertOne(doc);
  return doc;
}

/** A remittance event as the remittances slice publishes it. */
export function remittanceEvent(r: { remittanceId: string; agreementId: string; charityId: string; hostId: string; amountFen: number }, type: RemittanceEvent['type'] = 'remittance.sent'): RemittanceEvent {
  const at = new Date().toISOString();
  return { eventId: `rm:${r.remittanceId}:${type.slice('remittance.'.length)}`, type, version: 1, occurredAt: at, ...r, paidAt: at, reference: `ref-${r.remittanceId}`, coversFrom: 0, coversTo: 0 };
}
