import { Kafka, logLevel } from 'kafkajs';
import { startService, TestService } from '../helpers/app';
import { waitFor } from '../helpers/env';
import { readTopic } from '../helpers/kafka';
import { eventFor, OrderSnapshot } from '../../src/orders/orders.store';
import type { OrderEvent } from '../../src/events';
import { latestOrderStates, ORDERS } from '../../src/orders';

const snapshot = (i: number): OrderSnapshot => ({
  orderId: `o_proj${i}`, status: 'reserved', ver: 1, viewerId: `v_${i % 7}`, nick: '赵六', streamId: 's_1', productId: 'p_1', productName: '核桃',
  hostId: 'h_1', charityId: `c_${i % 3}`, charityName: '乡村教育基金', quantity: 2, unitPriceFen: 3000, pledgePerUnitFen: 100,
  createdAt: '2026-11-29T10:00:00.000Z', expiresAt: '2026-11-29T10:15:00.000Z', paidAt: '2026-11-29T10:01:00.000Z', paymentId: `pay${i}`,
  idempotencyKey: `k${i}`, bodyHash: 'h', eventIds: { 'order.placed': `e_p${i}`, 'order.paid': `e_d${i}` },
  eventTimes: { 'order.placed': '2026-11-29T10:00:00.000Z', 'order.paid': '2026-11-29T10:01:00.000Z' },
});

describe('order projection', () => {
  let svc: TestService;
  beforeAll(async () => { svc = await startService('workers'); });
  afterAll(async () => { await svc?.stop(); });

  it('when hundreds of events arrive at once, out of order and twice, and one is poison, then MongoDB holds each state of each order once, and the latest is the newest', async () => {
    const topic = svc.deps.config.kafka.topics.orderEvents;
    const producer = new Kafka({ clientId: 'proj-test', brokers: svc.deps.config.kafka.brokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const events: OrderEvent[] = [];
    for (let i = 0; i < 300; i++) events.push(eventFor(snapshot(i), 'order.paid')!, eventFor(snapshot(i), 'order.placed')!);
    const messages = [...events, ...events.slice(0, 100)].map((e) => ({ key: e.charityId, value: JSON.stringify(e) }));
    messages.splice(50, 0, { key: 'c_0', value: '{"type":"order.paid","orderId":{"$gt":""}}' });
    await producer.send({ topic, messages });
    await producer.disconnect();
    const states = async () => latestOrderStates(svc.deps.db, { streamId: 's_1' });
    await waitFor(async () => [...(await states()).values()].filter((d) => d.status === 'paid').length === 300, '300 paid orders in MongoDB', 50000, 500);
    expect((await states()).size).toBe(300);
    expect(await svc.deps.db.collection(ORDERS).countDocuments({})).toBe(600);
    expect((await states()).get('o_proj7')).toMatchObject({ status: 'paid', orderVersion: 2, lastEventId: 'e_d7', pledgePerUnitFen: 100, quantity: 2 });
    const fromProjection = (m: { value: string }[]) => m.map((x) => JSON.parse(x.value)).filter((d) => String(d.group).endsWith('.projection'));
    const dead = fromProjection(await readTopic(svc.deps.config.kafka.topics.deadLetter, (m) => fromProjection(m).length >= 1, 15000));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ reason: expect.stringMatching(/^invalid/), valueBase64: expect.any(String) });
  });
});
