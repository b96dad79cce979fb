import request from 'supertest';
import { startService, TestService, admin, bearer } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { order, pay, newKey } from '../helpers/orders';
import { readTopic } from '../helpers/kafka';
import { waitFor } from '../helpers/env';
import type { OrderEvent } from '../../src/events';
import { latestOrderState } from '../../src/orders';
import { countInShards, stockKey } from '../helpers/hot-keys';

describe('orders and payments', () => {
  let svc: TestService;
  let w: World;
  let viewer: { id: string; token: string };
  const remaining = async () => Number(await svc.deps.redis.get(stockKey(svc.deps, w.product.id)));

  beforeAll(async () => {
    svc = await startService('all', { LIVEGIVE_ORDER_TTL_SECONDS: '2', LIVEGIVE_SWEEP_INTERVAL_MS: '200' });
    w = await seedWorld(svc.url, { priceFen: 4990, perUnitFen: 200, stock: 50 });
    viewer = await newViewer(svc.url, '张三丰');
  });
  afterAll(async () => { await svc?.stop(); });

  it('when a viewer buys a pinned product, then the answer says what the order gives and to whom', async () => {
    const r = await order(svc.url, viewer.token, { streamId: w.stream.id, productId: w.product.id, quantity: 2 }).expect(201);
    expect(r.body).toMatchObject({ status: 'reserved', quantity: 2, unitPriceFen: 4990, totalFen: 9980, pledge: { charityId: w.charity.id, charityName: w.charity.name, perUnitFen: 200, totalFen: 400 } });
    const got = await request(svc.url).get(`/api/v1/orders/${r.body.id}`).set(bearer(viewer.token)).expect(200);
    expect(got.body).toMatchObject({ id: r.body.id, status: 'reserved', donation: { status: 'pending' } });
  });

  it('when the pledge is edited after an order, then that order keeps its pledge and later orders get the new one', async () => {
    const before = await order(svc.url, viewer.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }).expect(201);
    await request(svc.url).patch(`/api/v1/products/${w.product.id}`).set(bearer(w.host.token)).send({ pledge: { charityId: w.charity.id, perUnitFen: 500 } }).expect(200);
    const after = await order(svc.url, (await newViewer(svc.url)).token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }).expect(201);
    expect(after.body.pledge.perUnitFen).toBe(500);
    const again = await request(svc.url).get(`/api/v1/orders/${before.body.id}`).set(bearer(viewer.token)).expect(200);
    expect(again.body.pledge).toMatchObject({ perUnitFen: 200, totalFen: 200 });
    await request(svc.url).patch(`/api/v1/products/${w.product.id}`).set(bearer(w.host.token)).send({ pledge: { charityId: w.charity.id, perUnitFen: 200 } }).expect(200);
  });

  it('when the same Idempotency-Key is sent 5 times at once, then one order exists and every answer is the same', async () => {
    const v = await newViewer(svc.url);
    const key = newKey();
    const stockBefore = await remaining();
    const answers = await Promise.all(Array.from({ length: 5 }, () => order(svc.url, v.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }, key)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(await remaining()).toBe(stockBefore - 1);
    const reused = await order(svc.url, v.token, { streamId: w.stream.id, productId: w.product.id, quantity: 2 }, key).expect(422);
    expect(reused.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('when an order is paid with a valid signature, then it is paid once, and a repeated notice answers 200 with nothing new', async () => {
    const o = (await order(svc.url, viewer.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }).expect(201)).body;
    const body = { orderId: o.id, paymentId: 'pay_1', amountFen: o.totalFen, status: 'succeeded' };
    expect((await pay(svc.url, body).expect(200)).body).toEqual({ orderId: o.id, status: 'paid' });
    await pay(svc.url, body).expect(200);
    await request(svc.url).post(`/api/v1/orders/${o.id}/refund`).set(bearer(w.host.token)).expect(200);
    expect((await request(svc.url).post(`/api/v1/orders/${o.id}/refund`).set(bearer(w.host.token)).expect(200)).body).toMatchObject({ id: o.id, status: 'refunded', refundedQuantity: 1 });
    const events = await waitFor(async () => {
      const types = (m: { value: string }[]) => new Set(m.filter((x) => x.value.includes(o.id)).map((x) => JSON.parse(x.value).type)).size;
      const msgs = await readTopic(svc.deps.config.kafka.topics.orderEvents, (m) => types(m) >= 3, 5000);
      return types(msgs) >= 3 ? msgs.filter((x) => x.value.includes(o.id)) : null;
    }, 'three transitions for the order');
    const parsed = events.map((e) => ({ key: e.key, ...(JSON.parse(e.value) as OrderEvent) }));
    // a repeated notice re-publishes the same event id: one id per transition, however many copies
    const idsByType = new Map<string, Set<string>>();
    for (const e of parsed) idsByType.set(e.type, (idsByType.get(e.type) ?? new Set()).add(e.eventId));
    expect([...idsByType.keys()].sort()).toEqual(['order.paid', 'order.placed', 'order.refunded']);
    expect([...idsByType.values()].map((s) => s.size)).toEqual([1, 1, 1]);
    expect(parsed.every((e) => e.key === w.charity.id && e.version === 1 && e.pledgePerUnitFen === 200)).toBe(true);
    await waitFor(async () => (await latestOrderState(svc.deps.db, o.id))?.status === 'refunded', 'projection to show the refund');
  });

  it('when a payment has a bad, stale or missing signature, a wrong amount, or an unknown order, then it is refused and nothing is paid', async () => {
    const o = (await order(svc.url, viewer.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }).expect(201)).body;
    const body = { orderId: o.id, paymentId: 'pay_2', amountFen: o.totalFen, status: 'succeeded' };
    for (const opts of [{ secret: 'x'.repeat(32) }, { t: Math.floor(Date.now() / 1000) - 301 }, { header: null }, { header: 't=abc,v1=zz' }]) {
      expect((await pay(svc.url, body, opts).expect(401)).body.error.code).toBe('BAD_SIGNATURE');
    }
    expect((await pay(svc.url, { ...body, amountFen: o.totalFen - 1 }).expect(422)).body.error.code).toBe('AMOUNT_MISMATCH');
    expect((await pay(svc.url, { ...body, orderId: 'o_unknown' }).expect(404)).body.error.code).toBe('NOT_FOUND');
    expect((await pay(svc.url, { ...body, amountFen: 1.5 }).expect(422)).body.error.code).toBe('VALIDATION_FAILED');
    expect((await request(svc.url).get(`/api/v1/orders/${o.id}`).set(bearer(viewer.token))).body.status).toBe('reserved');
    expect((await request(svc.url).post(`/api/v1/orders/${o.id}/refund`).set(admin).expect(409)).body.error.code).toBe('ORDER_NOT_REFUNDABLE');
  });

  it('when an unpaid order expires, then its stock returns and a late payment is refused', async () => {
    const w4 = await seedWorld(svc.url, { stock: 7 });
    const left = async () => Number(await svc.deps.redis.get(stockKey(svc.deps, w4.product.id)));
    const before = 7;
    const o = (await order(svc.url, viewer.token, { streamId: w4.stream.id, productId: w4.product.id, quantity: 1 }).expect(201)).body;
    expect(await left()).toBe(before - 1);
    await waitFor(async () => (await request(svc.url).get(`/api/v1/orders/${o.id}`).set(bearer(viewer.token))).body.status === 'expired', 'expiry', 10000);
    expect(await left()).toBe(before);
    const r = await pay(svc.url, { orderId: o.id, paymentId: 'late', amountFen: o.totalFen, status: 'succeeded' }).expect(409);
    expect(r.body.error.code).toBe('ORDER_NOT_PAYABLE');
  });

  it('when an order body is bad in any way, then 4xx with its code and nothing is reserved', async () => {
    const w5 = await seedWorld(svc.url, { stock: 9 });
    const ok = { streamId: w5.stream.id, productId: w5.product.id, quantity: 1 };
    const bad: [Record<string, unknown>, string | null, number, string][] = [
      [{ ...ok, quantity: 0 }, newKey(), 422, 'VALIDATION_FAILED'], [{ ...ok, quantity: -1 }, newKey(), 422, 'VALIDATION_FAILED'],
      [{ ...ok, quantity: 1.5 }, newKey(), 422, 'VALIDATION_FAILED'], [{ ...ok, quantity: 2 ** 31 }, newKey(), 422, 'VALIDATION_FAILED'],
      [{ ...ok, quantity: '1' }, newKey(), 422, 'VALIDATION_FAILED'], [{ ...ok, productId: { $gt: '' } }, newKey(), 422, 'VALIDATION_FAILED'],
      [{ ...ok, extra: true }, newKey(), 422, 'VALIDATION_FAILED'], [ok, null, 422, 'VALIDATION_FAILED'], [ok, 'k'.repeat(256), 422, 'VALIDATION_FAILED'],
      [{ ...ok, quantity: 51 }, newKey(), 409, 'PURCHASE_LIMIT'], [{ ...ok, productId: 'p_notpinned' }, newKey(), 409, 'NOT_ON_SALE'],
    ];
    for (const [body, key, status, code] of bad) {
      const r = await order(svc.url, viewer.token, body, key);
      expect([r.status, r.body.error?.code]).toEqual([status, code]);
    }
    await request(svc.url).post('/api/v1/orders').set(bearer(viewer.token)).set('Idempotency-Key', 'k').set('Content-Type', 'application/json').send(`{"streamId":"${'x'.repeat(20000)}"}`).expect(413);
    await order(svc.url, w.host.token, ok).expect(403);
    await request(svc.url).post('/api/v1/orders').send(ok).expect(401);
    expect(Number(await svc.deps.redis.get(stockKey(svc.deps, w5.product.id)))).toBe(9);
    expect(await countInShards(svc.deps, 'outbox')).toBe(0);
  });

  it('when the stream is not live or another viewer asks for my order, then it is refused', async () => {
    const w2 = await seedWorld(svc.url);
    const o = (await order(svc.url, viewer.token, { streamId: w2.stream.id, productId: w2.product.id, quantity: 1 }).expect(201)).body;
    const other = await newViewer(svc.url);
    await request(svc.url).get(`/api/v1/orders/${o.id}`).set(bearer(other.token)).expect(404);
    await request(svc.url).get(`/api/v1/orders/${o.id}`).set(bearer(w.host.token)).expect(404);
    await request(svc.url).get(`/api/v1/orders/${o.id}`).set(bearer(w2.host.token)).expect(200);
    await request(svc.url).post(`/api/v1/streams/${w2.stream.id}/end`).set(bearer(w2.host.token)).expect(200);
    expect((await order(svc.url, viewer.token, { streamId: w2.stream.id, productId: w2.product.id, quantity: 1 }).expect(409)).body.error.code).toBe('NOT_ON_SALE');
  });

  it('when Kafka does not acknowledge order.placed, then the answer is 503 and the stock is given back', async () => {
    const w3 = await seedWorld(svc.url, { stock: 5 });
    const v = await newViewer(svc.url);
    const broken = await startService('api', {}, svc.env);
    await broken.deps.producer.close();
    const body = { streamId: w3.stream.id, productId: w3.product.id, quantity: 2 };
    // the original and a retry with the same key, at once: both are told the truth (not recorded)
    const answers = await Promise.all([order(broken.url, v.token, body, 'same-key'), order(broken.url, v.token, body, 'same-key')]);
    expect(answers.map((a) => [a.status, a.body.error?.code])).toEqual([[503, 'UNAVAILABLE'], [503, 'UNAVAILABLE']]);
    expect(Number(await svc.deps.redis.get(stockKey(svc.deps, w3.product.id)))).toBe(5);
    await broken.stop();
    // once Kafka takes events again, the same key places the order
    expect((await order(svc.url, v.token, body, 'same-key').expect(201)).body.status).toBe('reserved');
  });
});
