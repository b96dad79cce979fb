import { PAYMENT_SECRET, waitFor } from '../helpers/env';
import { call } from '../../scripts/chaos/http-client';
import { paymentSale } from '../helpers/payment-sale';
import { signPayment } from '../../src/orders/payment-signature';

/**
 * The allocator stays live when notices repeat: a burst of identical notices, a notice repeated after a refund, a
 * double refund, and a later order of the same charity are each allocated once and only once.
 */
describe('abuse: payment notifications repeated (allocator liveness)', () => {
  const t = paymentSale();
  const { place, notice, notify, status, entries } = t;

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
    expect((await call(t.svc.url, 'POST', `/api/v1/orders/${o.id}/refund`, { token: t.sale.setup.hostToken })).status).toBe(200);
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
    for (let i = 0; i < 2; i++) expect((await call(t.svc.url, 'POST', `/api/v1/orders/${o.id}/refund`, { token: t.sale.setup.hostToken })).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) { statuses.push((await call(t.svc.url, 'GET', `/api/v1/streams/${t.sale.setup.streamId}/totals`)).status); await new Promise((r) => setTimeout(r, 100)); }
    expect(statuses.filter((st) => st !== 200)).toEqual([]);
  });

  it('when a later order of the same charity is paid, then it is still allocated', async () => {
    const o = await place();
    const raw = notice(o.id, o.totalFen);
    expect((await notify(raw, signPayment(PAYMENT_SECRET, raw))).status).toBe(200);
    await waitFor(async () => (await entries(o.id)).length > 0, 'the allocation of a later order', 20000);
  });
});
