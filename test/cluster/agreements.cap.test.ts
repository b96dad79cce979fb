import request from 'supertest';
import { startService, TestService, bearer } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { burst, cappedSale, capUsed, sum } from '../helpers/agreements';
import { describeCluster, clusterNodes, masterAddress } from '../helpers/redis-cluster';
import { agreementHome, shardKeys, shardOf } from '../../src/infra/shards';
import { isCluster } from '../../src/infra/redis';

/** Caps on a Redis Cluster: each agreement's counters and products in one slot, two agreements on two masters, raced at once. */
describeCluster('an agreement\'s cap on a Redis Cluster', () => {
  let svc: TestService;
  const worlds: World[] = [];

  beforeAll(async () => {
    svc = await startService('all', { REDIS_CLUSTER_NODES: clusterNodes, LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '1000' });
    // two host-and-charity pairs whose home shards two different masters serve
    const masters = new Set<string>();
    while (worlds.length < 2) {
      const w = await seedWorld(svc.url);
      const m = await masterAddress(svc.deps, shardKeys(svc.deps.config.redis.prefix, agreementHome(w.host.id, w.charity.id)).outbox);
      if (!masters.has(m)) { masters.add(m); worlds.push(w); }
    }
  }, 120_000);
  afterAll(async () => { await svc?.stop(); });

  it('when 300 orders race for each of two caps on two masters, then each gives exactly its cap and the counters sit with the products', async () => {
    expect(isCluster(svc.deps.redis)).toBe(true);
    const viewers = await Promise.all(Array.from({ length: 20 }, (_, i) => newViewer(svc.url, `集群${i}`)));
    const caps = [12_345, 8_000];
    const sales = await Promise.all(worlds.map((w, i) => cappedSale(svc.url, w, { capFen: caps[i], onCap: 'continue_without_donation', perUnitFen: 100, priceFen: 1000, stock: 1000 })));
    for (const [i, s] of sales.entries()) {
      // the product's id was drawn in its agreement's home shard: one script moves its stock and its cap
      expect(shardOf(s.productId)).toBe(agreementHome(worlds[i].host.id, worlds[i].charity.id));
    }
    expect(new Set(await Promise.all(sales.map((s) => masterAddress(svc.deps, shardKeys(svc.deps.config.redis.prefix, shardOf(s.productId)).stock(s.productId))))).size).toBe(2);

    const placed = await Promise.all(sales.map((s) => burst(svc.url, viewers, 300, { streamId: s.streamId, productId: s.productId, quantity: 1 })));
    for (const [i, answers] of placed.entries()) {
      expect(answers.filter((r) => r.status !== 201).map((r) => r.body.error?.code)).toEqual([]);
      expect(sum(answers.map((r) => r.body.pledge.donationFen))).toBe(caps[i]);
      expect((await capUsed(svc.url, worlds[i], sales[i].agreementId)).capUsedFen).toBe(caps[i]);
    }

    // a cancelled donating order gives its share back at once; the next order donates it again
    const [first] = placed;
    const donor = first.find((r) => r.body.pledge.donationFen === 100)!;
    const owner = viewers[first.indexOf(donor) % viewers.length];
    await request(svc.url).post(`/api/v1/orders/${donor.body.id}/cancel`).set(bearer(owner.token)).expect(200);
    expect((await capUsed(svc.url, worlds[0], sales[0].agreementId)).capUsedFen).toBe(caps[0] - 100);
    const [next] = await burst(svc.url, viewers, 1, { streamId: sales[0].streamId, productId: sales[0].productId, quantity: 1 });
    expect(next.body.pledge).toMatchObject({ donates: true, donationFen: 100 });
    expect((await capUsed(svc.url, worlds[1], sales[1].agreementId)).capUsedFen).toBe(caps[1]);
  }, 180_000);
});
