import request from 'supertest';
import { createHash } from 'node:crypto';
import { startService, TestService, bearer } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { order, pay, newKey } from '../helpers/orders';
import { waitFor } from '../helpers/env';
import { latestOrderState, sweepOnce } from '../../src/orders';
import { idemKeyHash } from '../../src/orders/place-order';
import { newOrderId, shardOf, viewerShard } from '../../src/infra/shards';
import { stockKey } from '../helpers/hot-keys';

/** Issue 17: a viewer holds at most N unpaid orders; a viewer cancels their own unpaid order; keys keep their promise. */
describe('orders: open-order cap, cancellation, idempotency across products', () => {
  let svc: TestService;
  let w: World;
  let w2: World;
  const remaining = async (world = w) => Number(await svc.deps.redis.get(stockKey(svc.deps, world.product.id)));
  const buy = (v: { token: string }, key = newKey(), world = w, quantity = 1) => order(svc.url, v.token, { streamId: world.stream.id, productId: world.product.id, quantity }, key);
  const cancel = (token: string, id: string) => request(svc.url).post(`/api/v1/orders/${id}/cancel`).set(bearer(token));

  beforeAll(async () => {
    svc = await startService('all', { LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '3' });
    w = await seedWorld(svc.url, { stock: 30, buyerLimit: 20 });
    // two products in two shards (two slots on a cluster), so a key's promise is tested across them
    do w2 = await seedWorld(svc.url, { stock: 30, buyerLimit: 20 }); while (shardOf(w2.product.id) === shardOf(w.product.id));
  });
  afterAll(async () => { await svc?.stop(); });

  it('when a viewer holds the most unpaid orders allowed, then the next is 409 OPEN_ORDERS_LIMIT and reserves nothing; paying or cancelling one frees a place', async () => {
    const v = await newViewer(svc.url, '囤货人');
    const held = [];
    for (const world of [w, w2, w]) held.push((await buy(v, newKey(), world).expect(201)).body);
    const before = [await remaining(w), await remaining(w2)];
    const refused = await buy(v, newKey(), w2).expect(409);
    expect(refused.body.error).toMatchObject({ code: 'OPEN_ORDERS_LIMIT', details: { maxOpenOrders: 3 } });
    expect([await remaining(w), await remaining(w2)]).toEqual(before);
    // paying frees a place
    await pay(svc.url, { orderId: held[0].id, paymentId: 'pay-ol-1', amountFen: held[0].totalFen, status: 'succeeded' }).expect(200);
    const fourth = (await buy(v, newKey(), w2).expect(201)).body;
    await buy(v).expect(409);
    // cancelling frees a place
    await cancel(v.token, fourth.id).expect(200);
    await buy(v).expect(201);
  });

  it('when a viewer cancels an unpaid order, then it answers cancelled, the stock returns at once, order.cancelled reaches the projection, and a repeat answers the same', async () => {
    const v = await newViewer(svc.url, '退订人');
    const o = (await buy(v, newKey(), w, 2).expect(201)).body;
    const left = await remaining();
    expect((await cancel(v.token, o.id).expect(200)).body).toEqual({ id: o.id, status: 'cancelled' });
    expect(await remaining()).toBe(left + 2);
    expect((await cancel(v.token, o.id).expect(200)).body).toEqual({ id: o.id, status: 'cancelled' });
    expect(await remaining()).toBe(left + 2);
    expect((await request(svc.url).get(`/api/v1/orders/${o.id}`).set(bearer(v.token)).expect(200)).body.status).toBe('cancelled');
    await waitFor(async () => (await latestOrderState(svc.deps.db, o.id))?.status === 'cancelled', 'order.cancelled in the projection', 30000, 250);
    // a cancelled order cannot be paid afterwards
    expect((await pay(svc.url, { orderId: o.id, paymentId: 'pay-after-cancel', amountFen: o.totalFen, status: 'succeeded' }).expect(409)).body.error.code).toBe('ORDER_NOT_PAYABLE');
  });

  it('when orders are held unpaid, then the held-units gauge counts their units, and a cancel or payment takes them off', async () => {
    const held = async () => { await sweepOnce(svc.deps, 500, { readHeld: true }); return (await svc.deps.metrics.unitsHeldUnpaid.get()).values[0].value; };
    const v = await newViewer(svc.url);
    const before = await held();
    const a = (await buy(v, newKey(), w, 3).expect(201)).body;
    const b = (await buy(v, newKey(), w2, 2).expect(201)).body;
    expect(await held()).toBe(before + 5);
    await cancel(v.token, a.id).expect(200);
    await pay(svc.url, { orderId: b.id, paymentId: `pay-held-${b.id}`, amountFen: b.totalFen, status: 'succeeded' }).expect(200);
    expect(await held()).toBe(before);
  });

  it('when the cancel is not the viewer\'s to make or the order is paid, then it is refused and nothing changes', async () => {
    const v = await newViewer(svc.url);
    const other = await newViewer(svc.url);
    const o = (await buy(v).expect(201)).body;
    const left = await remaining();
    expect((await cancel(other.token, o.id).expect(404)).body.error.code).toBe('NOT_FOUND');
    expect((await cancel(w.host.token, o.id).expect(403)).body.error.code).toBe('FORBIDDEN');
    expect((await request(svc.url).post(`/api/v1/orders/${o.id}/cancel`).expect(401)).body.error.code).toBe('UNAUTHENTICATED');
    expect((await cancel(v.token, 'bad id!').expect(422)).body.error.code).toBe('VALIDATION_FAILED');
    expect((await cancel(v.token, newOrderId(w.product.id)).expect(404)).body.error.code).toBe('NOT_FOUND');
    expect((await cancel(v.token, 'o_notanorderweissued').expect(404)).body.error.code).toBe('NOT_FOUND');
    expect(await remaining()).toBe(left);
    await pay(svc.url, { orderId: o.id, paymentId: 'pay-nc', amountFen: o.totalFen, status: 'succeeded' }).expect(200);
    expect((await cancel(v.token, o.id).expect(409)).body.error).toMatchObject({ code: 'ORDER_NOT_CANCELLABLE', details: { status: 'paid' } });
    expect(await remaining()).toBe(left);
  });

  it('when an Idempotency-Key is reused for another product (another shard), then it is refused; replaying a cancelled order answers it as cancelled', async () => {
    const v = await newViewer(svc.url);
    const key = newKey();
    const o = (await buy(v, key, w).expect(201)).body;
    const left2 = await remaining(w2);
    expect((await buy(v, key, w2).expect(422)).body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await remaining(w2)).toBe(left2);
    expect((await buy(v, key, w).expect(200)).body.id).toBe(o.id);
    await cancel(v.token, o.id).expect(200);
    expect((await buy(v, key, w).expect(200)).body).toMatchObject({ id: o.id, status: 'cancelled' });
  });

  it('when the product refuses an order, then its key is not bound: the same key may then be used for another order', async () => {
    const v = await newViewer(svc.url);
    const key = newKey();
    expect((await buy(v, key, w, 21).expect(409)).body.error.code).toBe('PURCHASE_LIMIT');
    await buy(v, key, w, 1).expect(201);
  });

  it('when a request died between the viewer step and the product step, then a replay of its key after a few seconds completes that very order', async () => {
    const v = await newViewer(svc.url, '断线人');
    const key = newKey();
    const orderId = newOrderId(w.product.id);
    const bodyHash = createHash('sha256').update(JSON.stringify([w.stream.id, w.product.id, 1])).digest('hex');
    // what the viewer step leaves behind when its process dies before the product step runs
    const k = viewerShard(svc.deps.config.redis.prefix, v.id);
    await svc.deps.redis.set(k.idem(v.id, idemKeyHash(key)), `${orderId}|${bodyHash}|${Date.now() - 10_000}`, 'EX', 3600);
    const left = await remaining();
    const r = await buy(v, key, w, 1);
    expect([200, 201]).toContain(r.status);
    expect(r.body).toMatchObject({ id: orderId, status: 'reserved' });
    expect(await remaining()).toBe(left - 1);
    expect((await buy(v, key, w, 1).expect(200)).body.id).toBe(orderId);
    expect(await remaining()).toBe(left - 1);
  });

  it('when a stream sets a shorter payment window, then its orders expire after it and give their stock back; a bad window is refused', async () => {
    const streams = (body: object) => request(svc.url).post('/api/v1/streams').set(bearer(w.host.token)).send(body);
    for (const bad of [5, 86401, 1.5, '30']) expect((await streams({ title: '秒杀', paymentWindowSeconds: bad }).expect(422)).body.error.code).toBe('VALIDATION_FAILED');
    const st = (await streams({ title: '秒杀', paymentWindowSeconds: 10 }).expect(201)).body;
    expect(st.paymentWindowSeconds).toBe(10);
    await request(svc.url).put(`/api/v1/streams/${st.id}/products`).set(bearer(w.host.token)).send({ productIds: [w.product.id] }).expect(200);
    await request(svc.url).post(`/api/v1/streams/${st.id}/start`).set(bearer(w.host.token)).expect(200);
    const v = await newViewer(svc.url);
    const left = await remaining();
    const o = (await order(svc.url, v.token, { streamId: st.id, productId: w.product.id, quantity: 2 }).expect(201)).body;
    expect(Date.parse(o.expiresAt) - Date.parse(o.createdAt)).toBe(10_000);
    expect(await remaining()).toBe(left - 2);
    await waitFor(async () => (await request(svc.url).get(`/api/v1/orders/${o.id}`).set(bearer(v.token))).body.status === 'expired', 'the flash-sale order to expire', 20000, 250);
    expect(await remaining()).toBe(left);
  });
});
