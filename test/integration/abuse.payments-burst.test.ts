import { startService, TestService } from '../helpers/app';
import { ADMIN_TOKEN, PAYMENT_SECRET, waitFor } from '../helpers/env';
import { call, rng, Answer } from '../../scripts/chaos/http-client';
import { Sale } from '../../scripts/chaos/sale';
import { signPayment } from '../../src/orders/payment-signature';

/**
 * Kept out of the default run: after a burst of identical notices, or a notice repeated after a refund, the allocator loops on 'ledger entry … clashes with a stored entry'
 * and allocates nothing more for that charity (see the chaos report). Run it with jest's --testMatch set to this file's name.
 */
describe('abuse: payment notifications repeated (allocator liveness)', () => {
  let svc: TestService;
  let sale: Sale;
  let n = 0;

  beforeAll(async () => {
    svc = await startService('all', { LIVEGIVE_ORDER_TTL_SECONDS: '2', LIVEGIVE_SWEEP_INTERVAL_MS: '200' });
    sale = new Sale(() => [svc.url], { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random: rng(13) });
    await sale.prepare({ charities: 1, products: 1, stock: 100, viewers: 1 });
  });
  afterAll(async () => { await svc?.stop(); });

  const place = async () => (await call<{ id: string; totalFen: number }>(svc.url, 'POST', '/api/v1/orders', {
    token: sale.setup.viewers[0].token, headers: { 'idempotency-key': `pay-${n++}` }, body: { streamId: sale.setup.streamId, productId: sale.setup.productIds[0], quantity: 1 },
  })).body;
  const notice = (orderId: string, amountFen: number, paymentId = `pay_${orderId}`) => JSON.stringify({ orderId, paymentId, amountFen, status: 'succeeded' });
  const notify = (raw: string, signature: string): Promise<Answer<{ status?: string; error?: { code: string } }>> =>
    call(svc.url, 'POST', '/api/v1/payments/notify', { raw, headers: { 'livegive-signature': signature } });
  const status = async (id: string) => (await call<{ status: string }>(svc.url, 'GET', `/api/v1/orders/${id}`, { token: ADMIN_TOKEN })).body.status;
  const entries = (orderId: string) => svc.deps.db.collection('ledger').find({ orderId }).toArray();

  it('when the same valid notification arrives five times at once, then the order is paid once and the ledger has one allocation', async () => {
    const o = await place();
    const raw = notice(o.id, o.totalFen);
    const answers = await Promise.all(Array.from({ length: 5 }, () => notify(raw, signPayment(PAYMENT_SECRET, raw))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    await waitFor(async () => (await entries(o.id)).length > 0, 'the allocation');
    await new Promise((r) => setTimeout(r, 1000));
    const e = await entries(o.id);
    expect(e.filter((x) => x.kind === 'allocation')).toHaveLength(1);
    expect(await status(o.id)).toBe('paid');
  });


  it('when a payment is notified again after a refund (reordered retries), then the order stays refunded and the donation is not counted again', async () => {
    const o = await place();
    const raw = notice(o.id, o.totalFen);
    expect((await notify(raw, signPayment(PAYMENT_SECRET, raw))).status).toBe(200);
    expect((await call(svc.url, 'POST', `/api/v1/orders/${o.id}/refund`, { token: sale.setup.hostToken })).status).toBe(200);
    const again = await notify(raw, signPayment(PAYMENT_SECRET, raw));
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('refunded');
    await waitFor(async () => (await entries(o.id)).some((x) => x.kind === 'reversal'), 'the reversal');
    await new Promise((r) => setTimeout(r, 1000));
    const e = await entries(o.id);
    expect(e.map((x) => x.kind).sort()).toEqual(['allocation', 'reversal']);
    expect(e.reduce((s, x) => s + (x.amountFen as number), 0)).toBe(0);
    expect(await status(o.id)).toBe('refunded');
  });

  it('when a paid order is refunded twice (the API promises the same answer), then public totals keep answering 200', async () => {
    const o = await place();
    const raw = notice(o.id, o.totalFen);
    expect((await notify(raw, signPayment(PAYMENT_SECRET, raw))).status).toBe(200);
    await waitFor(async () => (await entries(o.id)).length > 0, 'the allocation');
    for (let i = 0; i < 2; i++) expect((await call(svc.url, 'POST', `/api/v1/orders/${o.id}/refund`, { token: sale.setup.hostToken })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) { statuses.push((await call(svc.url, 'GET', `/api/v1/streams/${sale.setup.streamId}/totals`)).status); await new Promise((r) => setTimeout(r, 100)); }
    expect(statuses.filter((st) => st !== 200)).toEqual([]);
  });

  it('when a later order of the same charity is paid, then it is still allocated', async () => {
    const o = await place();
    const raw = notice(o.id, o.totalFen);
    expect((await notify(raw, signPayment(PAYMENT_SECRET, raw))).status).toBe(200);
    await waitFor(async () => (await entries(o.id)).length > 0, 'the allocation of a later order', 20000);
  });
});
