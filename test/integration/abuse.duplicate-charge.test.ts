import { PAYMENT_SECRET, ADMIN_TOKEN, waitFor } from '../helpers/env';
import { paymentSale } from '../helpers/payment-sale';
import { call } from '../../scripts/chaos/http-client';
import { signPayment } from '../../src/orders/payment-signature';

interface Anomaly { kind: string; orderId: string; provider: string; paymentId: string; amountFen: number; at: string }

/** A second valid charge for a paid order is recorded for the operator, once, and never pays twice. */
describe('abuse: duplicate charges', () => {
  const sale = paymentSale();
  const { place, notice, notify, entries } = sale;
  const anomalies = async () => (await call<{ anomalies: Anomaly[] }>(sale.svc.url, 'GET', '/api/v1/payments/anomalies', { token: ADMIN_TOKEN })).body.anomalies;
  const metric = async () => {
    const text = (await call<string>(sale.svc.url, 'GET', '/metrics')).body;
    return Number(/livegive_payment_anomalies_total\{kind="duplicate_charge"\} (\d+)/.exec(text)?.[1] ?? 0);
  };

  it('when a second valid notification with another payment id arrives for a paid order, then a duplicate_charge anomaly is listed for the operator and the order is allocated once', async () => {
    const o = await place();
    const first = notice(o.id, o.totalFen, 'psp_first');
    const second = notice(o.id, o.totalFen, 'psp_second');
    expect((await notify(first, signPayment(PAYMENT_SECRET, first))).status).toBe(200);
    const a = await notify(second, signPayment(PAYMENT_SECRET, second));
    expect(a.status).toBe(200);
    const mine = (await anomalies()).filter((x) => x.orderId === o.id);
    expect(mine).toEqual([{ kind: 'duplicate_charge', orderId: o.id, provider: 'livegive', paymentId: 'psp_second', amountFen: o.totalFen, at: expect.any(String), originalPaymentId: 'psp_first' }]);
    expect(Number.isNaN(Date.parse(mine[0].at))).toBe(false);
    await waitFor(async () => (await entries(o.id)).length > 0, 'the allocation');
    await new Promise((r) => setTimeout(r, 500));
    expect((await entries(o.id)).filter((x) => x.kind === 'allocation')).toHaveLength(1);
  });

  it('when the provider retries the same duplicate notification, then it is recorded once (and counted once)', async () => {
    const o = await place();
    const first = notice(o.id, o.totalFen, 'psp_a');
    const dup = notice(o.id, o.totalFen, 'psp_b');
    await notify(first, signPayment(PAYMENT_SECRET, first));
    const before = await metric();
    const answers = await Promise.all([1, 2, 3].map(() => notify(dup, signPayment(PAYMENT_SECRET, dup))));
    expect(answers.map((x) => x.status)).toEqual([200, 200, 200]);
    expect((await anomalies()).filter((x) => x.orderId === o.id)).toHaveLength(1);
    expect((await metric()) - before).toBe(1);
  });

  it('when the same payment id is repeated, then it is an ordinary retry and no anomaly is recorded', async () => {
    const o = await place();
    const first = notice(o.id, o.totalFen, 'psp_same');
    await notify(first, signPayment(PAYMENT_SECRET, first));
    expect((await notify(first, signPayment(PAYMENT_SECRET, first))).status).toBe(200);
    expect((await anomalies()).filter((x) => x.orderId === o.id)).toEqual([]);
  });

  it('when anyone but the operator asks for the anomalies, then it is refused', async () => {
    expect((await call(sale.svc.url, 'GET', '/api/v1/payments/anomalies')).status).toBe(401);
    expect((await call(sale.svc.url, 'GET', '/api/v1/payments/anomalies', { token: sale.sale.setup.viewers[0].token })).status).toBe(403);
  });
});
