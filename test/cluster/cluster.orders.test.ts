import request from 'supertest';
import { startService, TestService, bearer } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { order, pay, newKey } from '../helpers/orders';
import { waitFor } from '../helpers/env';
import { productKeys, stockKey, boughtKey } from '../helpers/hot-keys';
import { describeCluster, clusterNodes, masterAddress } from '../helpers/redis-cluster';
import { isCluster } from '../../src/infra/redis';

/** The hot path on a Redis Cluster: the same order scripts, with keys spread over all three masters. */
describeCluster('orders on a Redis Cluster', () => {
  let svc: TestService;
  const worlds: World[] = [];
  const byMaster = new Map<string, World>();

  beforeAll(async () => {
    svc = await startService('all', { REDIS_CLUSTER_NODES: clusterNodes, LIVEGIVE_ORDER_TTL_SECONDS: '120', LIVEGIVE_SWEEP_INTERVAL_MS: '300', LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '100' });
    // products until each of the three masters serves at least one (64 shards spread 23/21/20)
    while (byMaster.size < 3 && worlds.length < 30) {
      const w = await seedWorld(svc.url, { stock: 20, buyerLimit: 2 });
      worlds.push(w);
      const m = await masterAddress(svc.deps, stockKey(svc.deps, w.product.id));
      if (!byMaster.has(m)) byMaster.set(m, w);
    }
  });
  afterAll(async () => { await svc?.stop(); });

  /** A fresh product (in a world of its own) whose shard the given master serves. */
  async function worldOn(master: string): Promise<World> {
    for (;;) {
      const w = await seedWorld(svc.url, { stock: 20, buyerLimit: 2 });
      if ((await masterAddress(svc.deps, stockKey(svc.deps, w.product.id))) === master) return w;
    }
  }

  it('runs on a cluster client, with products on all three masters', () => {
    expect(isCluster(svc.deps.redis)).toBe(true);
    expect(byMaster.size).toBe(3);
  });

  it('when 150 viewers race for 20 units of each of three products on three masters, then exactly the stock is sold and nobody passes the limit', async () => {
    const sale = [...byMaster.values()];
    const viewers = await Promise.all(Array.from({ length: 150 }, (_, i) => newViewer(svc.url, `抢购${i}`)));
    const answers = await Promise.all(viewers.flatMap((v) => sale.map((w) =>
      order(svc.url, v.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }).then((r) => ({ w, v, status: r.status, code: r.body?.error?.code })))));
    for (const w of sale) {
      const mine = answers.filter((a) => a.w === w);
      expect(mine.filter((a) => a.status === 201)).toHaveLength(20);
      expect(mine.filter((a) => a.status !== 201).every((a) => a.status === 409 && a.code === 'OUT_OF_STOCK')).toBe(true);
      expect(Number(await svc.deps.redis.get(stockKey(svc.deps, w.product.id)))).toBe(0);
      const bought = await svc.deps.redis.mget(viewers.map((v) => boughtKey(svc.deps, w.product.id, v.id)));
      expect(Math.max(...bought.map((b) => Number(b ?? 0)))).toBeLessThanOrEqual(2);
    }
    // and nobody buys past the per-buyer limit when one viewer tries hard
    const w = await seedWorld(svc.url, { stock: 20, buyerLimit: 2 });
    const greedy = await newViewer(svc.url, '贪心');
    const tries = await Promise.all(Array.from({ length: 6 }, () => order(svc.url, greedy.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 })));
    expect(tries.filter((r) => r.status === 201)).toHaveLength(2);
    expect(tries.filter((r) => r.status === 409).every((r) => r.body.error.code === 'PURCHASE_LIMIT')).toBe(true);
  });

  it('when an Idempotency-Key is replayed, then the same order comes back; reused for a product on another master, it is refused', async () => {
    const [a, b] = await Promise.all([...byMaster.keys()].slice(0, 2).map(worldOn));
    const v = await newViewer(svc.url);
    const key = newKey();
    const first = await order(svc.url, v.token, { streamId: a.stream.id, productId: a.product.id, quantity: 1 }, key).expect(201);
    const again = await order(svc.url, v.token, { streamId: a.stream.id, productId: a.product.id, quantity: 1 }, key).expect(200);
    expect(again.body.id).toBe(first.body.id);
    const left = Number(await svc.deps.redis.get(stockKey(svc.deps, b.product.id)));
    expect((await order(svc.url, v.token, { streamId: b.stream.id, productId: b.product.id, quantity: 1 }, key).expect(422)).body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(Number(await svc.deps.redis.get(stockKey(svc.deps, b.product.id)))).toBe(left);
  });

  it('when payments race the expiry sweeper on three masters, then each order ends paid or expired, never both, and stock counts only the paid', async () => {
    // a second API instance with a 3 s payment window places these orders; both sweep every shard
    const short = await startService('api', { LIVEGIVE_ORDER_TTL_SECONDS: '3' }, svc.env);
    const sale = await Promise.all([...byMaster.keys()].map(worldOn));
    const viewers = await Promise.all(Array.from({ length: 10 }, () => newViewer(svc.url)));
    const placed = (await Promise.all(viewers.flatMap((v) => sale.map((w) => order(short.url, v.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }).expect(201)))))
      .map((r) => r.body as { id: string; totalFen: number; productId: string });
    await new Promise((r) => setTimeout(r, 2900));
    const paid = await Promise.all(placed.map((o) => pay(svc.url, { orderId: o.id, paymentId: `p_${o.id}`, amountFen: o.totalFen, status: 'succeeded' })));
    expect(paid.every((r) => r.status === 200 || (r.status === 409 && r.body.error.code === 'ORDER_NOT_PAYABLE'))).toBe(true);
    const statusOf = (o: { id: string; productId: string }) => svc.deps.redis.hget(productKeys(svc.deps, o.productId).order(o.id), 'status');
    await waitFor(async () => (await Promise.all(placed.map(statusOf))).every((s) => s !== 'reserved'), 'every order settled', 20000, 200);
    for (const w of sale) {
      const mine = placed.filter((o) => o.productId === w.product.id);
      const statuses = await Promise.all(mine.map(statusOf));
      expect(statuses.every((s) => s === 'paid' || s === 'expired')).toBe(true);
      const paidHere = statuses.filter((s) => s === 'paid').length;
      expect(paidHere).toBe(mine.filter((o) => paid[placed.indexOf(o)].status === 200).length);
      expect(Number(await svc.deps.redis.get(stockKey(svc.deps, w.product.id)))).toBe(20 - paidHere);
    }
    await short.stop();
  });

  it('when a paid order on each master is refunded, then it answers refunded, twice the same, and its donation is reversed', async () => {
    for (const m of byMaster.keys()) {
      const w = await worldOn(m);
      const v = await newViewer(svc.url);
      const o = (await order(svc.url, v.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }).expect(201)).body;
      await pay(svc.url, { orderId: o.id, paymentId: `pr_${o.id}`, amountFen: o.totalFen, status: 'succeeded' }).expect(200);
      await waitFor(async () => (await request(svc.url).get(`/api/v1/orders/${o.id}`).set(bearer(v.token))).body.donation?.status === 'allocated', 'allocated', 30000, 250);
      expect((await request(svc.url).post(`/api/v1/orders/${o.id}/refund`).set(bearer(w.host.token)).expect(200)).body).toMatchObject({ id: o.id, status: 'refunded' });
      expect((await request(svc.url).post(`/api/v1/orders/${o.id}/refund`).set(bearer(w.host.token)).expect(200)).body).toMatchObject({ id: o.id, status: 'refunded' });
      await waitFor(async () => (await request(svc.url).get(`/api/v1/orders/${o.id}`).set(bearer(v.token))).body.donation?.status === 'reversed', 'reversed', 30000, 250);
    }
  });
});
