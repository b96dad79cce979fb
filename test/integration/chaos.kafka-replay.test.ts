import { PrivateKafka } from '../helpers/private-kafka';
import { startService, TestService } from '../helpers/app';
import { ADMIN_TOKEN, PAYMENT_SECRET } from '../helpers/env';
import { call, rng } from '../../scripts/chaos/http-client';
import { Sale } from '../../scripts/chaos/sale';

/**
 * Kept out of the default run (fails today): a retry with the same Idempotency-Key while the first attempt still
 * waits for Kafka is answered 200 "reserved", then the first attempt fails and cancels that very order.
 */
describe('chaos: an idempotent retry while Kafka is down', () => {
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

  it('when a client retries with the same Idempotency-Key while the first attempt still waits for the broker, then the retry is not told the order is placed', async () => {
    await kafka.down();
    const first = order('down-2');
    await new Promise((r) => setTimeout(r, 500));
    const retry = await order('down-2');
    const original = await first;
    console.log(`first attempt: ${original.status}; retry during it: ${retry.status} ${JSON.stringify(retry.body).slice(0, 120)}`);
    expect(original.status).toBe(503);
    // a 200/201 here would promise an order that the first attempt then cancels
    expect([200, 201]).not.toContain(retry.status);
    expect(await remaining()).toBe(10);
  }, 90_000);

});
