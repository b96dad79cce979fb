import { PrivateKafka } from '../helpers/private-kafka';
import { startService, TestService } from '../helpers/app';
import { ADMIN_TOKEN, PAYMENT_SECRET, waitFor } from '../helpers/env';
import { call, rng } from '../../scripts/chaos/http-client';
import { Sale } from '../../scripts/chaos/sale';

/** Kafka down: an order that cannot be recorded is refused (503, Retry-After) and reserves nothing; after the broker returns, orders flow again. */
describe('chaos: an order while Kafka is down', () => {
  let kafka: PrivateKafka;
  let svc: TestService;
  let sale: Sale;

  beforeAll(async () => {
    kafka = await PrivateKafka.start();
    svc = await startService('all', { KAFKA_BROKERS: kafka.brokers });
    sale = new Sale(() => [svc.url], { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random: rng(19) });
    await sale.prepare({ charities: 1, products: 1, stock: 10, viewers: 1 });
  }, 120_000);
  afterAll(async () => {
    await svc?.stop();
    await kafka?.destroy();
  });

  const order = (key: string) => call<{ id: string; error?: { code: string } }>(svc.url, 'POST', '/api/v1/orders', {
    token: sale.setup.viewers[0].token, headers: { 'idempotency-key': key }, body: { streamId: sale.setup.streamId, productId: sale.setup.productIds[0], quantity: 2 }, timeoutMs: 60_000,
  });
  const remaining = async () => (await call<{ products: { remaining: number }[] }>(svc.url, 'GET', `/api/v1/streams/${sale.setup.streamId}`)).body.products[0].remaining;

  it('when the broker is down, then the order is refused with 503 and Retry-After, and the stock is given back', async () => {
    await kafka.down();
    const t0 = Date.now();
    const a = await order('down-1');
    const ms = Date.now() - t0;
    console.log(`order refused after ${ms} ms with ${a.status} ${a.body.error?.code ?? ''}`);
    expect(a.status).toBe(503);
    expect(a.retryAfter).toBeGreaterThanOrEqual(1);
    expect(await remaining()).toBe(10);
  }, 90_000);

  it('when the broker is back, then the same Idempotency-Key places the order', async () => {
    await kafka.up();
    const a = await waitFor(async () => { const r = await order('down-1'); return r.status === 201 || r.status === 200 ? r : null; }, 'an accepted order', 60_000, 500);
    expect(a.body.id).toMatch(/^o_/);
    expect(await remaining()).toBe(8);
  }, 90_000);
});
