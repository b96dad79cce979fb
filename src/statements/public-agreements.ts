import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { lookupNames } from '../catalog';
import { agreementLayers, partyLayers } from '../agreements/layers';
import type { AgreementDoc, Layers } from '../agreements/agreement.types';
import { RemittancesRepository, remittanceView, type RemittanceDoc } from '../remittances';

/** A time as people in China read it: Asia/Shanghai (UTC+8, no daylight saving), "YYYY-MM-DD HH:mm". */
export const shanghaiTime = (d: Date) => `${new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ')} (UTC+8)`;

export const MIGRATED_NOTE = "accepted on the charity's behalf at migration";

/** The agreements the public sees: those the charity accepted (or that were accepted for it), suspended ones included. */
const isPublic = (a: AgreementDoc) => a.status === 'accepted' || a.status === 'suspended';

/**
 * A charity's pledge agreements as the public sees them: terms, the four layers, overdue, and every remittance with the
 * charity's answer, stored times in ISO UTC beside Asia/Shanghai display times. Reads: the charity's agreements and
 * remittances (one equality read each) and the layers (one Redis pipeline).
 */
export async function publicAgreements(deps: Deps, charityId: string, now = Date.now()) {
  const charity = (await lookupNames(deps, { charityIds: [charityId] })).charities.get(charityId);
  if (!charity) throw new DomainError('NOT_FOUND', 'no such charity');
  const repo = new RemittancesRepository(deps);
  const [all, remittances] = await Promise.all([repo.agreementsOfCharity(charityId), repo.byCharity(charityId)]);
  const agreements = all.filter(isPublic).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a._id.localeCompare(b._id));
  const layers = await agreementLayers(deps, agreements.map((a) => a._id), now, new Map(agreements.map((a) => [a._id, a.remitWithinDays])));
  const hosts = (await lookupNames(deps, { hostIds: [...new Set(agreements.map((a) => a.hostId))] })).hosts;
  const byAgreement = new Map<string, RemittanceDoc[]>();
  // only what the chain holds: a remittance whose event never reached the ledger (a crash before publishing) is not shown
  for (const r of remittances.filter((x) => x.entrySeq !== undefined)) (byAgreement.get(r.agreementId) ?? byAgreement.set(r.agreementId, []).get(r.agreementId)!).push(r);
  return {
    charityId, name: charity.name,
    layers: await partyLayers(deps, { charityId }, layers.values()),
    agreements: agreements.map((a) => ({
      id: a._id, hostId: a.hostId, hostName: hosts.get(a.hostId)?.name ?? '', status: a.status, migrated: a.migrated,
      ...(a.migrated ? { note: MIGRATED_NOTE } : {}),
      terms: {
        perUnitFen: a.perUnitFen, capFen: a.capFen, capUnits: a.capUnits, onCap: a.onCap, productIds: a.productIds, streamIds: a.streamIds,
        validFrom: a.validFrom.toISOString(), validTo: a.validTo.toISOString(), remitWithinDays: a.remitWithinDays,
        validFromLocal: shanghaiTime(a.validFrom), validToLocal: shanghaiTime(a.validTo),
      },
      ...(a.acceptedAt ? { acceptedAt: a.acceptedAt.toISOString(), acceptedAtLocal: shanghaiTime(a.acceptedAt) } : {}),
      layers: layers.get(a._id) as Layers,
      remittances: (byAgreement.get(a._id) ?? []).sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime()).map((r) => ({
        ...remittanceView(r), entrySeq: r.entrySeq, ...(r.answerSeq !== undefined ? { answerSeq: r.answerSeq } : {}), paidAtLocal: shanghaiTime(r.paidAt), ...(r.answeredAt ? { answeredAtLocal: shanghaiTime(r.answeredAt) } : {}),
      })),
    })),
  };
}
export type PublicAgreements = Awaited<ReturnType<typeof publicAgreements>>;
