import { PrivateKafka } from './private-kafka';
import { startService, TestService } from './app';
import { ADMIN_TOKEN, PAYMENT_SECRET } from './env';
import { call, rng } from '../../scripts/chaos/http-client';
import { Sale } from '../../scripts/chaos/sale';

/**
 * A service on a private broker the test may stop, a one-product sale of 10 units, and the calls the
 * Kafka-down tests make: an order of 2 units under a given Idempotency-Key, and the units remaining.
 * Registers its own beforeAll/afterAll; call it inside a describe.
 */
export function kafkaDownSale() {
  let kafka!: PrivateKafka;
  let svc!: TestService;
  let sale!: Sale;
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

  return {
    get kafka() { return kafka; },
    order: (key: string) => call<{ id: string; error?: { code: string } }>(svc.url, 'POST', '/api/v1/orders', {
      token: sale.setup.viewers[0].token, headers: { 'idempotency-key': key }, body: { streamId: sale.setup.streamId, productId: sale.setup.productIds[0], quantity: 2 }, timeoutMs: 60_000,
    }),
    remaining: async () => (await call<{ products: { remaining: number }[] }>(svc.url, 'GET', `/api/v1/streams/${sale.setup.streamId}`)).body.products[0].remaining,
  };
}
