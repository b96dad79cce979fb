import { startService, TestService } from './app';
import { ADMIN_TOKEN, PAYMENT_SECRET } from './env';
import { call, rng, Answer } from '../../scripts/chaos/http-client';
import { Sale } from '../../scripts/chaos/sale';

/**
 * A one-product sale on a service whose orders expire in 2 s, and the calls the payment-notification tests
 * make: place an order, build and send a notice, read an order's status and its ledger entries. Registers
 * its own beforeAll/afterAll; call it inside a describe.
 */
export function paymentSale() {
  let svc!: TestService;
  let sale!: Sale;
  let n = 0;
  beforeAll(async () => {
    svc = await startService('all', { LIVEGIVE_ORDER_TTL_SECONDS: '2', LIVEGIVE_SWEEP_INTERVAL_MS: '200' });
    sale = new Sale(() => [svc.url], { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random: rng(13) });
    await sale.prepare({ charities: 1, products: 1, stock: 100, viewers: 1 });
  });
  afterAll(async () => { await svc?.stop(); });

  return {
    get svc() { return svc; },
    get sale() { return sale; },
    place: async () => (await call<{ id: string; totalFen: number }>(svc.url, 'POST', '/api/v1/orders', {
      token: sale.setup.viewers[0].token, headers: { 'idempotency-key': `pay-${n++}` }, body: { streamId: sale.setup.streamId, productId: sale.setup.productIds[0], quantity: 1 },
    })).body,
    notice: (orderId: string, amountFen: number, paymentId = `pay_${orderId}`) => JSON.stringify({ orderId, paymentId, amountFen, status: 'succeeded' }),
    notify: (raw: string, signature: string): Promise<Answer<{ status?: string; error?: { code: string } }>> =>
      call(svc.url, 'POST', '/api/v1/payments/notify', { raw, headers: { 'livegive-signature': signature } }),
    status: async (id: string) => (await call<{ status: string }>(svc.url, 'GET', `/api/v1/orders/${id}`, { token: ADMIN_TOKEN })).body.status,
    entries: (orderId: string) => svc.deps.db.collection('ledger').find({ orderId }).toArray(),
  };
}
