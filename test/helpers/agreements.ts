import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { bearer } from './app';
import type { World } from './fixtures';
import { jsonClient } from './http-client';
import type { Deps } from '../../src/deps';
import type { AgreementDoc } from '../../src/agreements/agreement.types';
import type { RemittanceEvent } from '../../src/events';

const day = 86400_000;
export type Placed = { status: number; body: { id: string; totalFen: number; quantity: number; pledge: { donationFen: number; donates: boolean }; error?: { code: string } } };

/** A capped agreement between the world's host and charity, accepted, and a product of that host selling under it on a stream of its own. */
export async function cappedSale(url: string, w: World, cap: { capFen?: number; capUnits?: number; onCap: string; perUnitFen: number; priceFen: number; stock: number; paymentWindowSeconds?: number }) {
  // a stream of its own: agreements of one host and charity overlap unless their products, streams or periods differ
  const s = (await request(url).post('/api/v1/streams').set(bearer(w.host.token)).send({ title: '床垫专场', ...(cap.paymentWindowSeconds ? { paymentWindowSeconds: cap.paymentWindowSeconds } : {}) }).expect(201)).body;
  const a = (await request(url).post('/api/v1/agreements').set(bearer(w.host.token)).send({
    charityId: w.charity.id, perUnitFen: cap.perUnitFen, onCap: cap.onCap, validFrom: new Date(Date.now() - day).toISOString(), validTo: new Date(Date.now() + day).toISOString(), remitWithinDays: 30,
    streamIds: [s.id], ...(cap.capFen ? { capFen: cap.capFen } : {}), ...(cap.capUnits ? { capUnits: cap.capUnits } : {}),
  }).expect(201)).body;
  await request(url).post(`/api/v1/agreements/${a.id}/accept`).set(bearer(w.charity.token)).expect(200);
  const p = (await request(url).post('/api/v1/products').set(bearer(w.host.token)).send({
    name: '乳胶床垫', origin: '湖北武汉', unit: '张', priceFen: cap.priceFen, stock: cap.stock, buyerLimit: 10_000, pledge: { charityId: w.charity.id, perUnitFen: cap.perUnitFen, agreementId: a.id },
  }).expect(201)).body;
  await request(url).put(`/api/v1/streams/${s.id}/products`).set(bearer(w.host.token)).send({ productIds: [p.id] }).expect(200);
  await request(url).post(`/api/v1/streams/${s.id}/start`).set(bearer(w.host.token)).expect(200);
  return { agreementId: a.id as string, productId: p.id as string, streamId: s.id as string };
}

/** n orders at once from a few viewers (each with its own Idempotency-Key). */
export async function burst(url: string, viewers: { token: string }[], n: number, body: Record<string, unknown>): Promise<Placed[]> {
  const c = jsonClient(url, 64);
  try {
    return await Promise.all(Array.from({ length: n }, (_, i) => c.send('POST', '/api/v1/orders', body, { authorization: `Bearer ${viewers[i % viewers.length].token}`, 'idempotency-key': randomBytes(8).toString('hex') }) as Promise<Placed>));
  } finally { c.close(); }
}

export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export async function capUsed(url: string, w: World, agreementId: string): Promise<{ capUsedFen: number; capUsedUnits: number }> {
  const list = (await request(url).get('/api/v1/agreements').set(bearer(w.host.token)).expect(200)).body.agreements;
  const a = list.find((x: { id: string }) => x.id === agreementId);
  return { capUsedFen: a.capUsedFen, capUsedUnits: a.capUsedUnits };
}



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
