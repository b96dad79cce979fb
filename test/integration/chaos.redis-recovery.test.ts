import Redis from 'ioredis';
import { PrivateRedis } from '../helpers/redis-server';
import { startService, TestService } from '../helpers/app';
import { waitFor, ADMIN_TOKEN, PAYMENT_SECRET } from '../helpers/env';
import { rebuildSteps } from '../../src/recovery';
import { Sale } from '../../scripts/chaos/sale';
import { call, rng } from '../../scripts/chaos/http-client';
import { productKeys } from '../helpers/hot-keys';

/** Redis restarts with and without its persistence file: orders stop until the state is rebuilt, then resume. */
describe('chaos: Redis loses its state', () => {
  let redis: PrivateRedis;
  let svc: TestService;
  let sale: Sale;
  let gate: { open: () => void; ran: number } | null = null;
  const step = { name: 'test gate', run: async () => { if (gate) { gate.ran++; await new Promise<void>((r) => { gate!.open = r; }); } } };

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    svc = await startService('all', { REDIS_URL: redis.url, LIVEGIVE_ORDER_TTL_SECONDS: '60' });
    rebuildSteps.push(step);
    sale = new Sale(() => [svc.url], { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random: rng(7) });
    await sale.prepare({ charities: 1, products: 1, stock: 50, viewers: 2 });
  });
  afterAll(async () => {
    rebuildSteps.splice(rebuildSteps.indexOf(step), 1);
    await svc?.stop();
    await redis?.down({ wipe: true });
  });

  const ready = () => call<{ rebuilding: boolean }>(svc.url, 'GET', '/readyz');
  const order = (key: string) => call(svc.url, 'POST', '/api/v1/orders', {
    token: sale.setup.viewers[0].token, headers: { 'idempotency-key': key }, body: { streamId: sale.setup.streamId, productId: sale.setup.productIds[0], quantity: 1 },
  });

  it('when the service starts on a new deployment, then it does not rebuild and is ready', async () => {
    expect((await ready()).status).toBe(200);
    expect(svc.deps.state.rebuilding).toBe(false);
  });

  const remaining = async () => (await call<{ products: { remaining: number }[] }>(svc.url, 'GET', `/api/v1/streams/${sale.setup.streamId}`)).body.products[0].remaining;

  for (const wipe of [true, false]) {
    it(`when Redis restarts ${wipe ? 'without' : 'with'} its persistence file, then order writes get 503 and /readyz says rebuilding until the rebuild ends, and then orders resume with the stock they left`, async () => {
      expect((await order(`before-${wipe}`)).status).toBe(201);
      const left = await remaining();
      gate = { open: () => undefined, ran: 0 };
      await redis.down({ wipe, kill: true });
      await redis.up();
      await waitFor(async () => gate!.ran === 1, 'the rebuild to start', 10000);
      const r = await ready();
      expect(r.status).toBe(503);
      expect(r.body.rebuilding).toBe(true);
      const refused = await order(`k-${wipe}`);
      expect(refused.status).toBe(503);
      expect(refused.retryAfter).toBeGreaterThanOrEqual(1);
      const raw = JSON.stringify({ orderId: 'o_x', paymentId: 'p1', amountFen: 100, status: 'succeeded' });
      const { signPayment } = await import('../../src/orders/payment-signature');
      expect((await call(svc.url, 'POST', '/api/v1/payments/notify', { raw, headers: { 'livegive-signature': signPayment(PAYMENT_SECRET, raw) } })).status).toBe(503);

      gate.open();
      await waitFor(async () => (await ready()).status === 200, 'ready again', 15000);
      expect(gate.ran).toBe(1);
      // the catalog's hot copies are back, so the order script sees a live stream and its pinned product
      const c = new Redis(redis.url);
      try {
        const k = productKeys(svc.deps, sale.setup.productIds[0]);
        expect(await c.hget(k.stream(sale.setup.streamId), 'status')).toBe('live');
        expect(await c.sismember(k.pins(sale.setup.streamId), sale.setup.productIds[0])).toBe(1);
        expect(await c.hget(k.product(sale.setup.productIds[0]), 'perUnitFen')).toBe('500');
      } finally {
        c.disconnect();
      }
      // the reservation made before the restart still holds its unit; the replayed key returns the same order
      expect(await remaining()).toBe(left);
      expect((await order(`before-${wipe}`)).status).toBe(200);
      expect((await order(`after-${wipe}`)).status).toBe(201);
      expect(await remaining()).toBe(left - 1);
    });
  }

  it('when the state is verified, then a further check does not rebuild again', async () => {
    gate = { open: () => undefined, ran: 0 };
    await new Promise((r) => setTimeout(r, 1500));
    expect(gate.ran).toBe(0);
    expect((await ready()).status).toBe(200);
  });
});
