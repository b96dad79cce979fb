import request from 'supertest';
import { startService, TestService, admin, bearer } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { order, pay } from '../helpers/orders';
import { waitFor } from '../helpers/env';
import { verifyReceipt, Receipt, PublicHead } from '../../src/statements';
import { runVerify } from '../../src/statements/run-verify';

/**
 * The whole path: orders placed, paid and refunded through the API, a sponsor match, the allocator
 * writing the ledger from Kafka; then the statement must equal what the test computes from the orders.
 */
describe('statement from real orders', () => {
  let svc: TestService;
  let w: World;
  const started = new Date(Date.now() - 1000).toISOString();
  const placed: Array<{ id: string; quantity: number; pledgeFen: number; refunded: boolean }> = [];

  beforeAll(async () => {
    svc = await startService('all');
    w = await seedWorld(svc.url, { priceFen: 4990, perUnitFen: 250 });
    await request(svc.url).post('/api/v1/matches').set(admin).send({ sponsorName: '某某农业集团', streamId: w.stream.id, charityId: w.charity.id, ratioPercent: 50, capFen: 1_000_000 }).expect(201);
    for (const [i, quantity] of [1, 2, 3, 1, 2].entries()) {
      const viewer = await newViewer(svc.url, `买家${i}`);
      const o = (await order(svc.url, viewer.token, { streamId: w.stream.id, productId: w.product.id, quantity }).expect(201)).body;
      await pay(svc.url, { orderId: o.id, paymentId: `pay_${o.id}`, amountFen: o.totalFen, status: 'succeeded' }).expect(200);
      placed.push({ id: o.id, quantity, pledgeFen: o.pledge.totalFen, refunded: false });
    }
    for (const p of [placed[1], placed[4]]) {
      await request(svc.url).post(`/api/v1/orders/${p.id}/refund`).set(bearer(w.host.token)).expect(200);
      p.refunded = true;
    }
    const expectedEntries = placed.length * 2 + placed.filter((p) => p.refunded).length * 2;
    await waitFor(async () => (await request(svc.url).get(`/api/v1/public/charities/${w.charity.id}`)).body.entries === expectedEntries, 'the allocator to write every entry', 45_000, 300);
  }, 120_000);
  afterAll(async () => { await svc?.stop(); });

  it('when the period covers the sale, then the statement equals the figures computed from the orders, and the public total agrees', async () => {
    const to = new Date(Date.now() + 60_000).toISOString();
    const s = (await request(svc.url).get(`/api/v1/charities/${w.charity.id}/statements?from=${started}&to=${to}`).set(bearer(w.charity.token)).expect(200)).body;
    const pledged = placed.reduce((t, p) => t + p.pledgeFen, 0);
    const refunded = placed.filter((p) => p.refunded).reduce((t, p) => t + p.pledgeFen, 0);
    const half = (fen: number) => Math.floor(fen / 2);
    const matched = placed.reduce((t, p) => t + half(p.pledgeFen), 0);
    const matchRefunded = placed.filter((p) => p.refunded).reduce((t, p) => t + half(p.pledgeFen), 0);
    expect(s).toMatchObject({
      openingFen: 0, allocatedFen: pledged, reversedFen: -refunded, matchedFen: matched, matchReversedFen: -matchRefunded,
      closingFen: pledged - refunded + matched - matchRefunded, entries: 14, firstSeq: 1, lastSeq: 14,
    });
    const units = placed.reduce((t, p) => t + (p.refunded ? 0 : p.quantity), 0);
    expect(s.byProduct).toEqual([expect.objectContaining({ productId: w.product.id, name: '赣南脐橙 5 kg', units, netFen: s.closingFen })]);
    expect(s.byHost).toEqual([expect.objectContaining({ hostId: w.host.id, netFen: s.closingFen })]);
    const head = (await request(svc.url).get(`/api/v1/public/charities/${w.charity.id}`).expect(200)).body;
    expect(head).toMatchObject({ totalFen: s.closingFen, headSeq: 14, headHash: s.headHash });
  });

  it('when a buyer checks a paid and a refunded order, then each receipt proves its entries against the public head', async () => {
    const head = (await request(svc.url).get(`/api/v1/public/charities/${w.charity.id}`).expect(200)).body as PublicHead;
    const paid = (await request(svc.url).get(`/api/v1/public/receipts/${placed[0].id}`).expect(200)).body as Receipt;
    expect(paid).toMatchObject({ status: 'allocated', amountFen: placed[0].pledgeFen, orderStatus: 'paid' });
    expect(paid.entries.map((e) => e.entry.kind).sort()).toEqual(['allocation', 'match']);
    expect(verifyReceipt(paid, head)).toEqual({ ok: true, problems: [] });
    const refunded = (await request(svc.url).get(`/api/v1/public/receipts/${placed[1].id}`).expect(200)).body as Receipt;
    expect(refunded.status).toBe('reversed');
    expect(refunded.entries.map((e) => e.entry.kind).sort()).toEqual(['allocation', 'match', 'match_reversal', 'reversal']);
    expect(verifyReceipt(refunded, head).ok).toBe(true);
  });

  it('when the charity runs verify over the real chain and period, then everything matches', async () => {
    const lines: string[] = [];
    const code = await runVerify({ charity: w.charity.id, url: svc.url, token: w.charity.token, from: started, to: new Date(Date.now() + 60_000).toISOString() }, { log: (l) => lines.push(l) });
    expect(lines.join('\n')).toContain('everything matches');
    expect(code).toBe(0);
  });
});
