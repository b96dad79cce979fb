import request from 'supertest';
import { startService, TestService, bearer } from '../helpers/app';
import { seedWorld, newViewer } from '../helpers/fixtures';
import { order, pay } from '../helpers/orders';
import { readTopic } from '../helpers/kafka';
import { waitFor } from '../helpers/env';
import { sweepOnce, latestOrderStates } from '../../src/orders';
import { jsonClient } from '../helpers/http-client';
import type { OrderEvent } from '../../src/events';
import { boughtKey, countInShards, stockKey } from '../helpers/hot-keys';

describe('orders under concurrency', () => {
  let svc: TestService;
  beforeAll(async () => { svc = await startService('all', { LIVEGIVE_ORDER_TTL_SECONDS: '3', LIVEGIVE_SWEEP_INTERVAL_MS: '300', LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '100' }); });
  afterAll(async () => { await svc?.stop(); });

  it('when 400 viewers send 2,000 orders at once for 100 units, then exactly 100 are reserved, nobody passes the limit, and expiry gives them back', async () => {
    // a TTL long enough that no reservation expires during the burst, so every answer is about the same 100 units
    const burst = await startService('all', { LIVEGIVE_ORDER_TTL_SECONDS: '30', LIVEGIVE_SWEEP_INTERVAL_MS: '300' });
    try {
      const w = await seedWorld(burst.url, { stock: 100, buyerLimit: 5 });
      const viewers = await Promise.all(Array.from({ length: 400 }, (_, i) => newViewer(burst.url, `观众${i}`)));
      const body = JSON.stringify({ streamId: w.stream.id, productId: w.product.id, quantity: 1 });
      const started = Date.now();
      const client = jsonClient(burst.url);
      const answers = await Promise.all(viewers.flatMap((v) => Array.from({ length: 5 }, (_, i) =>
        client.send('POST', '/api/v1/orders', body, { authorization: `Bearer ${v.token}`, 'idempotency-key': `${v.id}-${i}` }))));
      client.close();
      expect(Date.now() - started).toBeLessThan(30000);
      expect(answers.filter((a) => a.status === 201)).toHaveLength(100);
      const refused = answers.filter((a) => a.status !== 201);
      expect(refused).toHaveLength(1900);
      expect(refused.every((a) => a.status === 409 && ['OUT_OF_STOCK', 'PURCHASE_LIMIT'].includes(a.body.error!.code))).toBe(true);
      expect(Number(await burst.deps.redis.get(stockKey(burst.deps, w.product.id)))).toBe(0);
      const bought = await burst.deps.redis.mget(viewers.map((v) => boughtKey(burst.deps, w.product.id, v.id)));
      expect(bought.every((b) => Number(b ?? 0) <= 5)).toBe(true);
      expect(bought.reduce((n, b) => n + Number(b ?? 0), 0)).toBe(100);
      await waitFor(async () => Number(await burst.deps.redis.get(stockKey(burst.deps, w.product.id))) === 100, 'stock to come back after expiry', 45000, 250);
    } finally {
      await burst.stop();
    }
  }, 120000);

  it('when payments race the expiry sweeper, then each order ends paid or expired, never both, with one event per transition', async () => {
    const w = await seedWorld(svc.url, { stock: 60, buyerLimit: 60 });
    const v = await newViewer(svc.url);
    const orders = (await Promise.all(Array.from({ length: 40 }, () => order(svc.url, v.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }).expect(201)))).map((r) => r.body);
    await new Promise((r) => setTimeout(r, 2900));
    const [payAnswers] = await Promise.all([
      Promise.all(orders.map((o) => pay(svc.url, { orderId: o.id, paymentId: `p_${o.id}`, amountFen: o.totalFen, status: 'succeeded' }))),
      sweepOnce(svc.deps), sweepOnce(svc.deps),
    ]);
    await waitFor(async () => (await countInShards(svc.deps, 'expiring')) === 0, 'every order settled', 15000, 200);
    const finals = await Promise.all(orders.map(async (o) => (await request(svc.url).get(`/api/v1/orders/${o.id}`).set(bearer(v.token))).body.status));
    payAnswers.forEach((a, i) => expect(a.status === 200 ? 'paid' : 'expired').toBe(finals[i]));
    expect(finals.every((s) => s === 'paid' || s === 'expired')).toBe(true);
    const paidCount = finals.filter((s) => s === 'paid').length;
    expect(Number(await svc.deps.redis.get(stockKey(svc.deps, w.product.id)))).toBe(60 - paidCount);
    const ids = new Set(orders.map((o) => o.id));
    const settled = (m: { value: string }[]) => {
      const byOrder = new Map<string, Set<string>>();
      for (const x of m) { const e = JSON.parse(x.value) as OrderEvent; if (ids.has(e.orderId) && e.type !== 'order.placed') byOrder.set(e.orderId, (byOrder.get(e.orderId) ?? new Set()).add(e.eventId)); }
      return byOrder;
    };
    const msgs = await readTopic(svc.deps.config.kafka.topics.orderEvents, (m) => settled(m).size === 40, 15000);
    const byOrder = settled(msgs);
    expect(byOrder.size).toBe(40);
    for (const [, eventIds] of byOrder) expect(eventIds.size).toBe(1);
    // the projection converges on the Redis state for every order
    await waitFor(async () => {
      const states = await latestOrderStates(svc.deps.db, { streamId: w.stream.id });
      return states.size === 40 && [...states.values()].every((d) => d.status === finals[orders.findIndex((o) => o.id === d.orderId)]);
    }, 'projection equal to Redis', 20000, 250);
  });
});
