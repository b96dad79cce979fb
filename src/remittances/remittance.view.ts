import type { RemittanceDoc } from './remittance.models';

/** A remittance as the API answers it (ISO UTC times). */
export const remittanceView = (d: RemittanceDoc) => ({
  id: d._id, agreementId: d.agreementId, charityId: d.charityId, hostId: d.hostId, amountFen: d.amountFen, paidAt: d.paidAt.toISOString(),
  reference: d.reference, status: d.status, coversSeqs: { from: d.coversFrom, to: d.coversTo }, createdAt: d.createdAt.toISOString(),
  ...(d.answeredAt ? { answeredAt: d.answeredAt.toISOString() } : {}), ...(d.reason ? { reason: d.reason } : {}),
});
export type RemittanceView = ReturnType<typeof remittanceView>;
