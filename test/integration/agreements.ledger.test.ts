import request from 'supertest';
import { startService, TestService, bearer } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { pay } from '../helpers/orders';
import { waitFor } from '../helpers/env';
import { burst, cappedSale, sum } from '../helpers/agreements';

/**
 * Both halves of issue 15 together: what the order script reserved under the cap is what the allocator writes to the
 * charity's chain, every entry names its agreement, and a refund after the cap takes back exactly its share.
 */
describe('a capped agreement, from the order to the ledger', () => {
  let svc: TestService;
  let w: World;
  let viewers: { id: string; token: string }[];
  beforeAll(async () => {
    svc = await startService('all', { LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '1000' });
    w = await seedWorld(svc.url);
    viewers = await Promise.all(Array.from({ length: 10 }, (_, i) => newViewer(svc.url, `买家${i}`)));
  });
  afterAll(async () => { await svc?.stop(); });

  it('when 200 orders race for a cap of ¥50.50 and all are paid, then the ledger holds exactly the cap under the agreement, and a refund reverses exactly its share', async () => {
    const cap = 5_050;
    const sale = await cappedSale(svc.url, w, { capFen: cap, onCap: 'continue_without_donation', perUnitFen: 100, priceFen: 990, stock: 500 });
    const placed = await burst(svc.url, viewers, 200, { streamId: sale.streamId, productId: sale.productId, quantity: 1 });
    expect(placed.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    expect(sum(placed.map((r) => r.body.pledge.donationFen))).toBe(cap);
    const answers = await Promise.all(placed.map((r) => pay(svc.url, { orderId: r.body.id, paymentId: `pay_${r.body.id}`, amountFen: r.body.totalFen, status: 'succeeded' })));
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);

    const ledger = svc.deps.db.collection<{ streamId: string; orderId: string; kind: string; amountFen: number; agreementId?: string }>('ledger');
    const entries = async () => ledger.find({ charityId: w.charity.id, streamId: sale.streamId } as never).toArray();
    await waitFor(async () => new Set((await entries()).map((e) => e.orderId)).size === 200, 'every paid order in the ledger', 60_000, 250);
    const written = await entries();
    // exactly the cap, never more; each order's entry is what its order answered before payment
    expect(sum(written.map((e) => e.amountFen))).toBe(cap);
    const promised = new Map(placed.map((r) => [r.body.id, r.body.pledge.donationFen]));
    for (const e of written.filter((x) => x.kind === 'allocation')) expect(e.amountFen).toBe(promised.get(e.orderId));
    expect(written.every((e) => e.agreementId === sale.agreementId)).toBe(true);

    // a refund of a donating order takes back exactly its donation, in the chain and in the agreement's pledged layer
    const refunded = placed.find((r) => r.body.pledge.donationFen === 100)!;
    await request(svc.url).post(`/api/v1/orders/${refunded.body.id}/refund`).set(bearer(w.host.token)).expect(200);
    await waitFor(async () => (await entries()).some((e) => e.orderId === refunded.body.id && e.kind === 'reversal'), 'the reversal', 30_000, 250);
    expect(sum((await entries()).map((e) => e.amountFen))).toBe(cap - 100);
    const layersOf = async () => ((await request(svc.url).get('/api/v1/agreements').set(bearer(w.host.token)).expect(200)).body.agreements as { id: string; pledgedFen: number }[]).find((a) => a.id === sale.agreementId)!;
    await waitFor(async () => (await layersOf()).pledgedFen === cap - 100, 'the pledged layer', 20_000, 250);
  }, 150_000);
});
