import request from 'supertest';
import { startService, TestService, admin, bearer } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { order, pay } from '../helpers/orders';
import { waitFor } from '../helpers/env';
import { readTopic } from '../helpers/kafka';
import type { OrderEvent } from '../../src/events';
import { rebuildOrderState } from '../../src/orders';
import { stockKey } from '../helpers/hot-keys';

/** Partial refunds: 1+1+1 of a 3-unit order must equal one whole refund in every total people read. */
describe('partial refunds', () => {
  let svc: TestService;
  let w: World;
  const paid = async (quantity: number, nick = '李四') => {
    const v = await newViewer(svc.url, nick);
    const o = (await order(svc.url, v.token, { streamId: w.stream.id, productId: w.product.id, quantity }).expect(201)).body;
    await pay(svc.url, { orderId: o.id, paymentId: `pay_${o.id}`, amountFen: o.totalFen, status: 'succeeded' }).expect(200);
    return o as { id: string; totalFen: number };
  };
  const refund = (id: string, body?: object, key?: string) => {
    const r = request(svc.url).post(`/api/v1/orders/${id}/refund`).set(bearer(w.host.token));
    if (key) r.set('Idempotency-Key', key);
    return body ? r.send(body) : r.send();
  };
  const ledger = async (orderId: string) => svc.deps.db.collection<{ kind: string; amountFen: number; seq: number }>('ledger').find({ orderId }).toArray();
  const sumKind = (docs: { kind: string; amountFen: number }[], kind: string) => docs.filter((d) => d.kind === kind).reduce((n, d) => n + d.amountFen, 0);
  const totals = async () => (await request(svc.url).get(`/api/v1/streams/${w.stream.id}/totals`).expect(200)).body;

  beforeAll(async () => {
    svc = await startService('all');
    // 333 fen a unit and a 50 % match: 999 × 50 % = 499.5 → 499 taken, which three refunds cannot split evenly
    w = await seedWorld(svc.url, { priceFen: 4990, perUnitFen: 333, stock: 100 });
    await request(svc.url).post('/api/v1/matches').set(admin).send({ sponsorName: '配捐企业', streamId: w.stream.id, charityId: w.charity.id, ratioPercent: 50, capFen: 1_000_000 }).expect(201);
  });
  afterAll(async () => { await svc?.stop(); });

  it('when a 3-unit order is refunded 1+1+1 and another whole, then ledger, totals, statement and receipts agree to the fen', async () => {
    const keep = await paid(2, '王五');
    const a = await paid(3, '赵六');
    const b = await paid(3, '钱七');
    await waitFor(async () => (await ledger(b.id)).length === 2, 'allocation and match of the last order');
    // the totals follow the ledger a moment later (the allocator writes entries, then moves the totals): wait for all 8 units
    const before = await waitFor(async () => { const t = await totals(); return t.units === 8 ? t : null; }, 'totals of the three paid orders');

    const first = await refund(a.id, { quantity: 1 }).expect(200);
    expect(first.body).toMatchObject({ id: a.id, status: 'partially_refunded', refundedQuantity: 1 });
    const got = await request(svc.url).get(`/api/v1/orders/${a.id}`).set(admin).expect(200);
    expect(got.body).toMatchObject({ status: 'partially_refunded', refundedQuantity: 1 });
    await waitFor(async () => (await ledger(a.id)).length === 4, 'the first partial reversal and its match share');
    // the order still counts while units of it stay paid; one unit's pledge (333) and one share of the match (floor(499/3) = 166) came back
    const mid = await waitFor(async () => { const t = await totals(); return t.units === before.units - 1 ? t : null; }, 'totals after the first partial refund');
    expect((await request(svc.url).get(`/api/v1/public/receipts/${a.id}`).expect(200)).body.status).toBe('partially_reversed');
    expect(mid).toMatchObject({ orders: before.orders, units: before.units - 1, donationFen: before.donationFen - 333, matchedFen: before.matchedFen - 166, salesFen: before.salesFen - 4990 });

    expect((await refund(a.id, { quantity: 1 }).expect(200)).body).toMatchObject({ status: 'partially_refunded', refundedQuantity: 2 });
    // more than what is left: refused, nothing changes
    const over = await refund(a.id, { quantity: 2 }).expect(409);
    expect(over.body.error).toMatchObject({ code: 'REFUND_EXCEEDS_REMAINING', details: { remainingQuantity: 1 } });
    expect((await refund(a.id, { quantity: 1 }, 'host-retry-1').expect(200)).body).toMatchObject({ status: 'refunded', refundedQuantity: 3 });
    // the host's retry with the same key is the same refund; a further refund is refused
    expect((await refund(a.id, { quantity: 1 }, 'host-retry-1').expect(200)).body).toMatchObject({ status: 'refunded', refundedQuantity: 3 });
    expect((await refund(a.id, { quantity: 1 }).expect(409)).body.error.code).toBe('REFUND_EXCEEDS_REMAINING');
    expect((await refund(b.id).expect(200)).body).toMatchObject({ status: 'refunded', refundedQuantity: 3 });

    await waitFor(async () => (await ledger(a.id)).length === 8 && (await ledger(b.id)).length === 4, 'every reversal in the ledger', 30000);
    const [la, lb] = [await ledger(a.id), await ledger(b.id)];
    // ledger: three reversals of -333 and match shares 166+166+167 against one -999 and -499
    expect(la.filter((d) => d.kind === 'reversal').map((d) => d.amountFen)).toEqual([-333, -333, -333]);
    expect(la.filter((d) => d.kind === 'match_reversal').sort((x, y) => x.seq - y.seq).map((d) => d.amountFen)).toEqual([-166, -166, -167]);
    for (const kind of ['allocation', 'reversal', 'match', 'match_reversal']) expect(sumKind(la, kind)).toBe(sumKind(lb, kind));
    expect(la.reduce((n, d) => n + d.amountFen, 0)).toBe(0);

    // Redis totals (what the overlay shows): only the kept order remains, as if neither refunded order had been paid
    const after = await waitFor(async () => { const t = await totals(); return t.units === 2 ? t : null; }, 'totals after the refunds');
    expect(after).toMatchObject({ orders: 1, units: 2, salesFen: 9980, donationFen: 666, matchedFen: 333 });
    expect(after.byProduct[0]).toMatchObject({ units: 2, donationFen: 666 });

    // statement: reversals and match reversals of both orders are equal sums
    const st = (await request(svc.url).get(`/api/v1/charities/${w.charity.id}/statements?from=2026-01-01T00:00:00.000Z&to=2028-01-01T00:00:00.000Z`).set(admin).expect(200)).body;
    expect(st).toMatchObject({ allocatedFen: 333 * 8, reversedFen: -999 * 2, matchedFen: 333 + 499 * 2, matchReversedFen: -499 * 2, closingFen: 666 + 333 });

    // receipts: both orders' entries net to zero and both read reversed
    for (const id of [a.id, b.id]) {
      const r = (await request(svc.url).get(`/api/v1/public/receipts/${id}`).expect(200)).body;
      expect(r.status).toBe('reversed');
      expect(r.entries.reduce((n: number, e: { entry: { amountFen: number } }) => n + e.entry.amountFen, 0)).toBe(0);
    }
    expect(keep.id).toBeTruthy();

    // Kafka: each refund its own order.refunded event with its units and id
    const events = (await readTopic(svc.deps.config.kafka.topics.orderEvents, (m) => m.filter((x) => x.value.includes(a.id) && x.value.includes('order.refunded')).length >= 3, 5000))
      .map((m) => JSON.parse(m.value) as OrderEvent).filter((e) => e.orderId === a.id && e.type === 'order.refunded');
    const byId = new Map(events.map((e) => [e.eventId, e]));
    expect([...byId.values()].map((e) => [e.refundNo, e.refundQuantity, e.refundedQuantity, e.status, e.orderVersion]).sort()).toEqual([
      [1, 1, 1, 'partially_refunded', 3], [2, 1, 2, 'partially_refunded', 4], [3, 1, 3, 'refunded', 5],
    ]);
  }, 90_000);

  it('when a product says refunded units return to stock, then they do; by default they do not', async () => {
    const stock = async () => Number(await svc.deps.redis.get(stockKey(svc.deps, w.product.id)));
    const o1 = await paid(2);
    const s0 = await stock();
    await refund(o1.id, { quantity: 1 }).expect(200);
    expect(await stock()).toBe(s0);
    await request(svc.url).patch(`/api/v1/products/${w.product.id}`).set(bearer(w.host.token)).send({ restockOnRefund: true }).expect(200);
    await refund(o1.id, { quantity: 1 }).expect(200);
    expect(await stock()).toBe(s0 + 1);
  });

  it('when Redis order state is rebuilt from MongoDB after a partial refund, then the refunded units are remembered and what is left can still be refunded, no more', async () => {
    const o = await paid(4);
    await refund(o.id, { quantity: 1 }).expect(200);
    await refund(o.id, { quantity: 1 }).expect(200);
    await waitFor(async () => (await svc.deps.db.collection('orders').countDocuments({ orderId: o.id, status: 'partially_refunded' })) === 2, 'the projection of both partial refunds');
    await rebuildOrderState(svc.deps);
    expect((await request(svc.url).get(`/api/v1/orders/${o.id}`).set(admin).expect(200)).body).toMatchObject({ status: 'partially_refunded', refundedQuantity: 2 });
    expect((await refund(o.id, { quantity: 3 }).expect(409)).body.error.details).toEqual({ remainingQuantity: 2 });
    expect((await refund(o.id).expect(200)).body).toMatchObject({ status: 'refunded', refundedQuantity: 4, refundQuantity: 2 });
    await waitFor(async () => (await ledger(o.id)).filter((d) => d.kind === 'reversal').length === 3, 'three reversals');
    expect((await ledger(o.id)).reduce((n, d) => n + d.amountFen, 0)).toBe(0);
  }, 60_000);

  it('when a refund body is bad, then it is refused with a clear code and nothing changes', async () => {
    const o = await paid(1);
    for (const body of [{ quantity: 0 }, { quantity: 1.5 }, { quantity: '1' }, { units: 1 }]) {
      expect((await refund(o.id, body).expect(422)).body.error.code).toBe('VALIDATION_FAILED');
    }
    const got = await request(svc.url).get(`/api/v1/orders/${o.id}`).set(admin).expect(200);
    expect(got.body.status).toBe('paid');
  });
});
