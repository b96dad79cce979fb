import { PAYMENT_SECRET, waitFor } from '../helpers/env';
import { paymentSale } from '../helpers/payment-sale';
import { signPayment } from '../../src/orders/payment-signature';

/** Payment notifications replayed, forged, tampered, reordered: no double payment, no payment of an expired order. */
describe('abuse: payment notifications', () => {
  const { place, notice, notify, status, entries } = paymentSale();

  it('when a captured notification is replayed after the signature window, then it is refused 401 BAD_SIGNATURE and the order stays unpaid', async () => {
    const o = await place();
    const raw = notice(o.id, o.totalFen);
    const old = signPayment(PAYMENT_SECRET, raw, Math.floor(Date.now() / 1000) - 301);
    const a = await notify(raw, old);
    expect([a.status, a.body.error?.code]).toEqual([401, 'BAD_SIGNATURE']);
    expect(await status(o.id)).toBe('reserved');
  });

  it('when a notification is forged with another key or its body altered after signing, then it is refused 401 and nothing is paid', async () => {
    const o = await place();
    const raw = notice(o.id, o.totalFen);
    expect((await notify(raw, signPayment('not-the-secret-0123456789abcdef', raw))).status).toBe(401);
    const signed = signPayment(PAYMENT_SECRET, notice(o.id, 1));
    expect((await notify(raw, signed)).status).toBe(401);
    expect((await notify(raw, 't=1,v1=zz')).status).toBe(401);
    expect((await notify(raw, '')).status).toBe(401);
    expect(await status(o.id)).toBe('reserved');
  });

  it('when the amount differs from the order total, then it is refused 422 AMOUNT_MISMATCH and nothing is paid', async () => {
    const o = await place();
    const raw = notice(o.id, o.totalFen - 1);
    const a = await notify(raw, signPayment(PAYMENT_SECRET, raw));
    expect([a.status, a.body.error?.code]).toEqual([422, 'AMOUNT_MISMATCH']);
    expect(await status(o.id)).toBe('reserved');
  });

  it('when a notification arrives after the order expired, then it is refused 409 ORDER_NOT_PAYABLE and no allocation is made', async () => {
    const o = await place();
    await waitFor(async () => (await status(o.id)) === 'expired', 'the order to expire', 10000);
    const raw = notice(o.id, o.totalFen);
    const a = await notify(raw, signPayment(PAYMENT_SECRET, raw));
    expect([a.status, a.body.error?.code]).toEqual([409, 'ORDER_NOT_PAYABLE']);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await entries(o.id)).toHaveLength(0);
    expect(await status(o.id)).toBe('expired');
  });

  it('when a second, different payment id arrives for a paid order, then it does not pay it twice', async () => {
    const o = await place();
    const first = notice(o.id, o.totalFen, 'psp_1');
    const second = notice(o.id, o.totalFen, 'psp_2');
    expect((await notify(first, signPayment(PAYMENT_SECRET, first))).status).toBe(200);
    const a = await notify(second, signPayment(PAYMENT_SECRET, second));
    expect(a.status === 200 || a.status === 409).toBe(true);
    await waitFor(async () => (await entries(o.id)).length > 0, 'the allocation');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await entries(o.id)).filter((x) => x.kind === 'allocation')).toHaveLength(1);
  });
});
