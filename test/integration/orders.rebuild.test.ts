import request from 'supertest';
import { startService, TestService, bearer } from '../helpers/app';
import { PrivateRedis } from '../helpers/redis-server';
import { seedWorld, newViewer } from '../helpers/fixtures';
import { order, pay } from '../helpers/orders';
import { waitFor } from '../helpers/env';
import { productKeys, stockKey, strayOrderId } from '../helpers/hot-keys';

describe('order state after Redis loses its data', () => {
  let redis: PrivateRedis;
  let svc: TestService;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    svc = await startService('all', { REDIS_URL: redis.url });
  });
  afterAll(async () => { await svc?.stop(); await redis?.down(); });

  it('when Redis restarts empty, then stock, order states, buyer limits and idempotency keys are rebuilt exactly from MongoDB', async () => {
    const w = await seedWorld(svc.url, { stock: 20, buyerLimit: 3 });
    const a = await newViewer(svc.url, '李四');
    const b = await newViewer(svc.url, '王五');
    const body = { streamId: w.stream.id, productId: w.product.id, quantity: 1 };
    const o1 = (await order(svc.url, a.token, { ...body, quantity: 2 }, 'key-a1').expect(201)).body;
    const o2 = (await order(svc.url, b.token, body, 'key-b1').expect(201)).body;
    const o3 = (await order(svc.url, b.token, body, 'key-b2').expect(201)).body;
    await pay(svc.url, { orderId: o1.id, paymentId: 'p1', amountFen: o1.totalFen, status: 'succeeded' }).expect(200);
    await pay(svc.url, { orderId: o3.id, paymentId: 'p3', amountFen: o3.totalFen, status: 'succeeded' }).expect(200);
    await request(svc.url).post(`/api/v1/orders/${o3.id}/refund`).set(bearer(w.host.token)).expect(200);

    await redis.down({ wipe: true });
    await redis.up();
    // the service notices the empty Redis, refuses orders while it rebuilds, then is ready again
    await waitFor(async () => (await request(svc.url).get('/readyz')).status === 200 && !svc.deps.state.rebuilding, 'the rebuild to finish', 60000, 250);

    expect(Number(await svc.deps.redis.get(stockKey(svc.deps, w.product.id)))).toBe(16);
    for (const [o, status, who] of [[o1, 'paid', a], [o2, 'reserved', b], [o3, 'refunded', b]] as const) {
      expect((await request(svc.url).get(`/api/v1/orders/${o.id}`).set(bearer(who.token)).expect(200)).body.status).toBe(status);
    }
    // the same key and body replays the same order; the buyer limit still counts what was bought
    expect((await order(svc.url, a.token, { ...body, quantity: 2 }, 'key-a1').expect(200)).body.id).toBe(o1.id);
    expect((await order(svc.url, a.token, { ...body, quantity: 2 }).expect(409)).body.error.code).toBe('PURCHASE_LIMIT');
    // the reserved order can still be paid, and a repeated notice of a paid order is still accepted
    await pay(svc.url, { orderId: o2.id, paymentId: 'p2', amountFen: o2.totalFen, status: 'succeeded' }).expect(200);
    await pay(svc.url, { orderId: o1.id, paymentId: 'p1', amountFen: o1.totalFen, status: 'succeeded' }).expect(200);
    expect((await request(svc.url).get(`/api/v1/streams/${w.stream.id}`).expect(200)).body.status).toBe('live');
  });

  it('when Redis comes back from its file holding a reservation Kafka never saw, then the rebuild drops it: stock counts only recorded orders and the sweeper cannot expire it', async () => {
    const w = await seedWorld(svc.url, { stock: 20, buyerLimit: 5 });
    const a = await newViewer(svc.url, '赵六');
    const body = { streamId: w.stream.id, productId: w.product.id, quantity: 3 };
    const o1 = (await order(svc.url, a.token, body, 'key-file-1').expect(201)).body;
    await pay(svc.url, { orderId: o1.id, paymentId: 'pf1', amountFen: o1.totalFen, status: 'succeeded' }).expect(200);
    // what a file can hold after a crash between the script and Kafka: 2 units reserved, due now, no event
    const r = svc.deps.redis;
    const k = productKeys(svc.deps, w.product.id);
    const stray = strayOrderId(w.product.id);
    await r.hset(k.order(stray), { orderId: stray, status: 'reserved', ver: '1', viewerId: a.id, productId: w.product.id, quantity: '2', expMs: '1', idempotencyKey: 'k', bodyHash: 'h' });
    await r.zadd(k.expiring, 1, stray);
    await r.decrby(k.stock(w.product.id), 2);
    await redis.down({ kill: true, wipe: false });
    await redis.up();
    await waitFor(async () => (await request(svc.url).get('/readyz')).status === 200 && !svc.deps.state.rebuilding, 'the rebuild to finish', 60000, 250);

    expect(await r.exists(k.order(stray))).toBe(0);
    expect(Number(await r.get(k.stock(w.product.id)))).toBe(17);
    await request(svc.url).get(`/api/v1/orders/${stray}`).set(bearer(a.token)).expect(404);
    expect((await request(svc.url).get(`/api/v1/orders/${o1.id}`).set(bearer(a.token)).expect(200)).body.status).toBe('paid');
    // a sweep after the rebuild finds nothing of the stray reservation to give back
    await new Promise((res) => setTimeout(res, 2 * svc.deps.config.orders.sweepIntervalMs + 200));
    expect(Number(await r.get(k.stock(w.product.id)))).toBe(17);
  });
});
