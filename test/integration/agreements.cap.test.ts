import request from 'supertest';
import { startService, TestService, bearer } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { order, pay } from '../helpers/orders';
import { waitFor } from '../helpers/env';
import { burst, cappedSale, capUsed, Placed, sum } from '../helpers/agreements';
import { PrivateRedis } from '../helpers/redis-server';
import { productKeys, stockKey } from '../helpers/hot-keys';
import { refundShare } from '../../src/agreements';

describe('an agreement\'s cap, reserved with the order', () => {
  let svc: TestService;
  let w: World;
  let viewers: { id: string; token: string }[];
  beforeAll(async () => {
    svc = await startService('all', { LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '1000', LIVEGIVE_SWEEP_INTERVAL_MS: '200' });
    w = await seedWorld(svc.url);
    viewers = await Promise.all(Array.from({ length: 20 }, (_, i) => newViewer(svc.url, `观众${i}`)));
  });
  afterAll(async () => { await svc?.stop(); });

  it('when 500 orders race for a cap in fen, then they donate exactly the cap; after payments, cancellations, expiries and a refund stock and cap are exact', async () => {
    const cap = 25_050;
    const sale = await cappedSale(svc.url, w, { capFen: cap, onCap: 'continue_without_donation', perUnitFen: 100, priceFen: 1000, stock: 1000, paymentWindowSeconds: 20 });
    const body = { streamId: sale.streamId, productId: sale.productId, quantity: 1 };
    const placed = await burst(svc.url, viewers, 500, body);
    expect(placed.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    const given = placed.map((r) => r.body.pledge.donationFen);
    // exactly the cap, never more: 250 orders give 100, one gives the 50 left, the rest nothing (and say so)
    expect(sum(given)).toBe(cap);
    expect(given.filter((d) => d === 100).length).toBe(250);
    expect(given.filter((d) => d === 50).length).toBe(1);
    expect(placed.filter((r) => !r.body.pledge.donates).length).toBe(249);
    expect(await capUsed(svc.url, w, sale.agreementId)).toEqual({ capUsedFen: cap, capUsedUnits: 251 });

    // pay 150 donating and 50 non-donating orders; viewers cancel 20 donating ones (their cap returns at once); the rest expire
    const donating = placed.filter((r) => r.body.pledge.donationFen > 0);
    const paid = [...donating.slice(0, 150), ...placed.filter((r) => !r.body.pledge.donates).slice(0, 50)];
    const answers = await Promise.all(paid.map((r) => pay(svc.url, { orderId: r.body.id, paymentId: `pay_${r.body.id}`, amountFen: r.body.totalFen, status: 'succeeded' })));
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toEqual([]);
    const cancelled = donating.slice(150, 170);
    const owner = (r: Placed) => viewers[placed.indexOf(r) % viewers.length];
    for (const r of cancelled) await request(svc.url).post(`/api/v1/orders/${r.body.id}/cancel`).set(bearer(owner(r).token)).expect(200);
    expect((await capUsed(svc.url, w, sale.agreementId)).capUsedFen).toBe(cap - sum(cancelled.map((r) => r.body.pledge.donationFen)));
    const paidFen = sum(paid.map((r) => r.body.pledge.donationFen));
    const stock = async () => Number(await svc.deps.redis.get(stockKey(svc.deps, sale.productId)));
    await waitFor(async () => (await stock()) === 1000 - paid.length, 'the unpaid orders to expire and return their stock', 40_000, 250);
    expect(await capUsed(svc.url, w, sale.agreementId)).toEqual({ capUsedFen: paidFen, capUsedUnits: 150 });

    // orders until the cap is reached again; one more gives nothing
    const again = await burst(svc.url, viewers, Math.floor(cap / 100) - 150 + 5, body);
    expect(sum(again.map((r) => r.body.pledge.donationFen))).toBe(cap - paidFen);
    const next = (await order(svc.url, viewers[0].token, body).expect(201)).body;
    expect(next.pledge).toMatchObject({ donates: false, donationFen: 0 });
    // a refund after the cap was reached returns that order's pledge to the cap: the next order donates again
    const refunded = paid.find((r) => r.body.pledge.donationFen === 100)!;
    await request(svc.url).post(`/api/v1/orders/${refunded.body.id}/refund`).set(bearer(w.host.token)).expect(200);
    expect((await capUsed(svc.url, w, sale.agreementId)).capUsedFen).toBe(cap - 100);
    const after = (await order(svc.url, viewers[1].token, body).expect(201)).body;
    expect(after.pledge).toMatchObject({ donates: true, donationFen: 100 });
    expect((await capUsed(svc.url, w, sale.agreementId)).capUsedFen).toBe(cap);
  }, 120_000);

  it('when 500 orders of 3 race for a cap of 100 units that stops selling, then 34 sell (the last with one donating unit) and the rest are refused CAP_REACHED', async () => {
    const sale = await cappedSale(svc.url, w, { capUnits: 100, onCap: 'stop_selling', perUnitFen: 300, priceFen: 2000, stock: 5000 });
    const body = { streamId: sale.streamId, productId: sale.productId, quantity: 3 };
    const placed = await burst(svc.url, viewers, 500, body);
    const sold = placed.filter((r) => r.status === 201);
    expect(placed.filter((r) => r.status === 409 && r.body.error?.code === 'CAP_REACHED').length).toBe(466);
    expect(sold.length).toBe(34);
    expect(sum(sold.map((r) => r.body.pledge.donationFen))).toBe(100 * 300);
    expect(sold.filter((r) => r.body.pledge.donationFen === 300).length).toBe(1);
    expect(Number(await svc.deps.redis.get(stockKey(svc.deps, sale.productId)))).toBe(5000 - 34 * 3);
    expect(await capUsed(svc.url, w, sale.agreementId)).toEqual({ capUsedFen: 30_000, capUsedUnits: 100 });

    // a partial refund of one unit of a paid order gives back that unit's share: the next order sells again, with one donating unit
    const full = sold.find((r) => r.body.pledge.donationFen === 900)!;
    await pay(svc.url, { orderId: full.body.id, paymentId: `pay_${full.body.id}`, amountFen: full.body.totalFen, status: 'succeeded' }).expect(200);
    await request(svc.url).post(`/api/v1/orders/${full.body.id}/refund`).set(bearer(w.host.token)).send({ quantity: 1 }).expect(200);
    expect(await capUsed(svc.url, w, sale.agreementId)).toEqual({ capUsedFen: 30_000 - refundShare(900, 3, 0, 1), capUsedUnits: 99 });
    const next = (await order(svc.url, viewers[2].token, body).expect(201)).body;
    expect(next.pledge).toMatchObject({ donates: true, donationFen: 300 });
    expect((await order(svc.url, viewers[3].token, body).expect(409)).body.error.code).toBe('CAP_REACHED');
  }, 120_000);
});

describe('an agreement\'s cap after Redis loses its data', () => {
  let redis: PrivateRedis;
  let svc: TestService;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    svc = await startService('all', { REDIS_URL: redis.url });
  });
  afterAll(async () => { await svc?.stop(); await redis?.down(); });

  it('when Redis restarts empty, then the cap counters are rebuilt exactly from the orders of record', async () => {
    const w = await seedWorld(svc.url);
    const sale = await cappedSale(svc.url, w, { capFen: 1_000, capUnits: 8, onCap: 'continue_without_donation', perUnitFen: 150, priceFen: 1000, stock: 100 });
    const [a, b] = [await newViewer(svc.url), await newViewer(svc.url)];
    const body = (q: number) => ({ streamId: sale.streamId, productId: sale.productId, quantity: q });
    const o1 = (await order(svc.url, a.token, body(3)).expect(201)).body; // 450
    const o2 = (await order(svc.url, b.token, body(2)).expect(201)).body; // 300
    const o3 = (await order(svc.url, a.token, body(3)).expect(201)).body; // 250 left of the fen cap
    const o4 = (await order(svc.url, b.token, body(1)).expect(201)).body; // nothing left
    expect([o1, o2, o3, o4].map((o) => o.pledge.donationFen)).toEqual([450, 300, 250, 0]);
    for (const o of [o1, o3]) await pay(svc.url, { orderId: o.id, paymentId: `pay_${o.id}`, amountFen: o.totalFen, status: 'succeeded' }).expect(200);
    await request(svc.url).post(`/api/v1/orders/${o3.id}/refund`).set(bearer(w.host.token)).send({ quantity: 2 }).expect(200);
    await request(svc.url).post(`/api/v1/orders/${o2.id}/cancel`).set(bearer(b.token)).expect(200);
    const before = await capUsed(svc.url, w, sale.agreementId);
    // 450 + (250 − ⌊250×2/3⌋) for the fen; 3 + (3 − 2) for the units
    expect(before).toEqual({ capUsedFen: 450 + 250 - refundShare(250, 3, 0, 2), capUsedUnits: 3 + 3 - refundShare(3, 3, 0, 2) });

    await redis.down({ wipe: true });
    await redis.up();
    await waitFor(async () => (await request(svc.url).get('/readyz')).status === 200 && !svc.deps.state.rebuilding, 'the rebuild to finish', 60000, 250);
    expect(await capUsed(svc.url, w, sale.agreementId)).toEqual(before);
    expect(await svc.deps.redis.hget(productKeys(svc.deps, sale.productId).agreement(sale.agreementId), 'status')).toBe('accepted');
    const next = (await order(svc.url, b.token, body(1)).expect(201)).body;
    expect(next.pledge.donationFen).toBe(Math.min(150, 1_000 - before.capUsedFen));
  }, 120_000);
});
