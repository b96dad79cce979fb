import { startService, TestService } from '../helpers/app';
import { ADMIN_TOKEN, PAYMENT_SECRET } from '../helpers/env';
import { call, rng } from '../../scripts/chaos/http-client';
import { Sale } from '../../scripts/chaos/sale';
import { signPayment } from '../../src/orders/payment-signature';

/** Rate limits per token and per address on order placement, sign-up and payment notifications. */
describe('abuse: rate limits', () => {
  let svc: TestService;
  let sale: Sale;
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  beforeAll(async () => {
    svc = await startService('all', {
      LIVEGIVE_RATE_LIMITS: 'on', LIVEGIVE_TRUST_PROXY: 'true', LIVEGIVE_RATE_ORDERS_PER_MINUTE: '10',
      LIVEGIVE_RATE_SIGNUPS_PER_MINUTE: '20', LIVEGIVE_RATE_PAYMENTS_PER_SECOND: '20', LIVEGIVE_DEFAULT_BUYER_LIMIT: '1000',
      // this file floods with unpaid orders on purpose; the open-order cap has its own tests
      LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '1000',
    });
    sale = new Sale(() => [svc.url], { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random: rng(11) });
    await sale.prepare({ charities: 1, products: 1, stock: 1000, viewers: 3 });
  });
  afterAll(async () => { await svc?.stop(); });

  const order = (token: string, ip: string, key: string) => call<{ id: string; error?: { code: string } }>(svc.url, 'POST', '/api/v1/orders', {
    token, headers: { ...from(ip), 'idempotency-key': key }, body: { streamId: sale.setup.streamId, productId: sale.setup.productIds[0], quantity: 1 },
  });

  it('when a viewer floods order placement, then it gets 429 RATE_LIMITED with Retry-After, nothing is reserved, and another viewer is not slowed', async () => {
    const [flooder, other] = sale.setup.viewers;
    const flood = await Promise.all(Array.from({ length: 40 }, (_, i) => order(flooder.token, '10.0.0.1', `flood-${i}`)));
    const limited = flood.filter((a) => a.status === 429);
    expect(flood.filter((a) => a.status === 201)).toHaveLength(10);
    expect(limited).toHaveLength(30);
    expect(limited[0].body.error?.code).toBe('RATE_LIMITED');
    expect(limited.every((a) => (a.retryAfter ?? 0) >= 1)).toBe(true);
    // the stock shows only the ten accepted orders
    const stream = await call<{ products: { remaining: number }[] }>(svc.url, 'GET', `/api/v1/streams/${sale.setup.streamId}`);
    expect(stream.body.products[0].remaining).toBe(1000 - 10);

    const t0 = Date.now();
    const mine = await Promise.all(Array.from({ length: 5 }, (_, i) => order(other.token, '10.0.0.2', `other-${i}`)));
    expect(mine.map((a) => a.status)).toEqual([201, 201, 201, 201, 201]);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('when one viewer rotates addresses, then the per-token limit still stops it', async () => {
    const v = sale.setup.viewers[2];
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push((await order(v.token, `10.1.0.${i}`, `rot-${i}`)).status);
    expect(answers.filter((s) => s === 201)).toHaveLength(10);
    expect(answers.slice(10)).toEqual([429, 429]);
  });

  it('when one address signs up too often, then sign-up answers 429 with Retry-After and creates no viewer', async () => {
    const answers = [];
    for (let i = 0; i < 22; i++) answers.push(await call(svc.url, 'POST', '/api/v1/viewers', { headers: from('10.2.0.1'), body: { nickname: `bot${i}` } }));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(20);
    expect(answers.slice(20).map((a) => a.status)).toEqual([429, 429]);
    expect(answers[21].retryAfter).toBeGreaterThanOrEqual(1);
    expect(await svc.deps.db.collection('viewers').countDocuments({ nickname: { $in: ['bot20', 'bot21'] } })).toBe(0);
    // another address is not affected
    expect((await call(svc.url, 'POST', '/api/v1/viewers', { headers: from('10.2.0.2'), body: { nickname: 'human' } })).status).toBe(201);
  });

  it('when one address floods payment notifications, then it gets 429 and its signed notices are not processed', async () => {
    const raw = JSON.stringify({ orderId: 'o_nonexistent', paymentId: 'p1', amountFen: 100, status: 'succeeded' });
    const answers = await Promise.all(Array.from({ length: 30 }, () => call(svc.url, 'POST', '/api/v1/payments/notify', { raw, headers: { ...from('10.3.0.1'), 'livegive-signature': signPayment(PAYMENT_SECRET, raw) } })));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(10);
    expect(answers.filter((a) => a.status === 404).length).toBeLessThanOrEqual(20);
    expect(limited.every((a) => (a.retryAfter ?? 0) >= 1)).toBe(true);
  });
});
