import request from 'supertest';
import { startService, TestService, bearer } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { order, pay } from '../helpers/orders';
import { readTopic } from '../helpers/kafka';
import { productKeys } from '../helpers/hot-keys';
import type { OrderEvent } from '../../src/events';

/** Histogram count of a metric of this process (how many observations so far). */
async function observations(svc: TestService, name: 'produceBatchSize'): Promise<number> {
  const m = await svc.deps.metrics[name].get();
  return m.values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
}

describe('orders: outbox removals gathered per produce batch', () => {
  let svc: TestService;
  let w: World;
  const zrems: string[][] = [];

  beforeAll(async () => {
    svc = await startService('all');
    w = await seedWorld(svc.url, { priceFen: 1000, perUnitFen: 100, stock: 100 });
    // every ZREM the service sends to this product's outbox, counted on its way to Redis (which still runs it);
    // MONITOR on the shared Redis was read as replies by ioredis under load ("Command queue state error")
    const outbox = productKeys(svc.deps, w.product.id).outbox;
    const zrem = svc.deps.redis.zrem.bind(svc.deps.redis) as (...a: unknown[]) => Promise<number>;
    jest.spyOn(svc.deps.redis, 'zrem').mockImplementation(((key: string, ...members: string[]) => {
      if (key === outbox) zrems.push(members.flat());
      return zrem(key, ...members);
    }) as never);
  });
  afterAll(async () => { jest.restoreAllMocks(); await svc?.stop(); });

  it('when ten viewers order at once, then each answer comes after its own event is in Kafka, and their outbox entries go in fewer ZREMs than orders (at most one per produce batch)', async () => {
    const viewers = await Promise.all(Array.from({ length: 10 }, () => newViewer(svc.url)));
    const batchesBefore = await observations(svc, 'produceBatchSize');
    zrems.length = 0;
    const answers = await Promise.all(viewers.map((v) => order(svc.url, v.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }).expect(201)));
    const ids = answers.map((a) => a.body.id as string);
    const outbox = productKeys(svc.deps, w.product.id).outbox;
    // answered: nothing of theirs is left waiting for Kafka, and Kafka has every one of their events
    expect(await Promise.all(ids.map((id) => svc.deps.redis.zscore(outbox, `${id}|order.placed`)))).toEqual(ids.map(() => null));
    const seen = new Set<string>();
    await readTopic(svc.deps.config.kafka.topics.orderEvents, (msgs) => {
      for (const m of msgs) { const e = JSON.parse(m.value) as OrderEvent; if (e.type === 'order.placed' && ids.includes(e.orderId)) seen.add(e.orderId); }
      return seen.size === ids.length;
    });
    expect(seen.size).toBe(ids.length);
    const removed = zrems.flat().filter((m) => ids.some((id) => m === `${id}|order.placed`));
    expect(new Set(removed).size).toBe(ids.length);
    const batches = (await observations(svc, 'produceBatchSize')) - batchesBefore;
    expect(zrems.length).toBeLessThanOrEqual(batches);
    expect(zrems.length).toBeLessThan(ids.length);
  });

  it('when orders are paid at once, then they are paid, their order.paid events are in Kafka and the outbox holds nothing of theirs', async () => {
    const viewers = await Promise.all(Array.from({ length: 6 }, () => newViewer(svc.url)));
    const placed = await Promise.all(viewers.map((v) => order(svc.url, v.token, { streamId: w.stream.id, productId: w.product.id, quantity: 2 }).expect(201)));
    const paid = await Promise.all(placed.map((o, i) => pay(svc.url, { orderId: o.body.id, paymentId: `pay_batch_${i}`, amountFen: o.body.totalFen, status: 'succeeded' }).expect(200)));
    expect(paid.map((p) => p.body.status)).toEqual(placed.map(() => 'paid'));
    const outbox = productKeys(svc.deps, w.product.id).outbox;
    expect(await Promise.all(placed.map((o) => svc.deps.redis.zscore(outbox, `${o.body.id}|order.paid`)))).toEqual(placed.map(() => null));
    const got = await request(svc.url).get(`/api/v1/orders/${placed[0].body.id}`).set(bearer(viewers[0].token)).expect(200);
    expect(got.body.status).toBe('paid');
    const ids = new Set(placed.map((o) => o.body.id as string));
    const seen = new Set<string>();
    await readTopic(svc.deps.config.kafka.topics.orderEvents, (msgs) => {
      for (const m of msgs) { const e = JSON.parse(m.value) as OrderEvent; if (e.type === 'order.paid' && ids.has(e.orderId)) seen.add(e.orderId); }
      return seen.size === ids.size;
    });
    expect(seen.size).toBe(ids.size);
  });
});
