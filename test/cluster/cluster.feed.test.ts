import { startService, TestService } from '../helpers/app';
import { testEnv, waitFor } from '../helpers/env';
import { seedWorld, newViewer } from '../helpers/fixtures';
import { order, pay } from '../helpers/orders';
import { describeCluster, clusterNodes } from '../helpers/redis-cluster';
import { FeedWatcher } from '../../scripts/chaos/gather';

/** The feed's pub/sub on a cluster: a payment's totals reach the viewers of every API instance. */
describeCluster('feed on a Redis Cluster, two API instances', () => {
  let workers: TestService;
  let apiA: TestService;
  let apiB: TestService;
  beforeAll(async () => {
    const env = testEnv({ REDIS_CLUSTER_NODES: clusterNodes });
    workers = await startService('workers', {}, env);
    [apiA, apiB] = await Promise.all([startService('api', {}, env), startService('api', {}, env)]);
  });
  afterAll(async () => { await Promise.all([apiA?.stop(), apiB?.stop()]); await workers?.stop(); });

  it('when an order is paid through one instance, then WebSocket viewers on both instances see the new totals', async () => {
    const w = await seedWorld(apiA.url, { priceFen: 3000, perUnitFen: 300, stock: 10 });
    const feeds = [new FeedWatcher(() => [apiA.url], w.stream.id), new FeedWatcher(() => [apiB.url], w.stream.id)];
    feeds.forEach((f) => f.start());
    await waitFor(async () => feeds.every((f) => f.latest !== null), 'both snapshots', 20000);
    const v = await newViewer(apiB.url);
    const o = (await order(apiB.url, v.token, { streamId: w.stream.id, productId: w.product.id, quantity: 2 }).expect(201)).body;
    await pay(apiA.url, { orderId: o.id, paymentId: `pf_${o.id}`, amountFen: o.totalFen, status: 'succeeded' }).expect(200);
    await waitFor(async () => feeds.every((f) => f.latest?.donationFen === 600), 'both feeds to show the donation', 30000, 100);
    feeds.forEach((f) => f.close());
    expect(feeds.map((f) => f.latest?.units)).toEqual([2, 2]);
  });
});
