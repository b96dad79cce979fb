import { startService, TestService } from '../helpers/app';
import { ADMIN_TOKEN, PAYMENT_SECRET, waitFor } from '../helpers/env';
import { stockKey } from '../helpers/hot-keys';
import { describeCluster, clusterNodes, masterAddress, killNode, restartNodes, roleOf } from '../helpers/redis-cluster';
import { rebuildSteps } from '../../src/recovery';
import { SHARDS } from '../../src/infra/shards';
import { Sale } from '../../scripts/chaos/sale';
import { FeedWatcher, formatProblems, settleAndCheck } from '../../scripts/chaos/gather';
import { call, rng } from '../../scripts/chaos/http-client';

/**
 * A Redis master killed mid-sale: its replica takes over (replication is asynchronous, so its last writes may be
 * gone); the service notices on that master's shards only, rebuilds them from MongoDB and the Kafka log, and
 * nothing acknowledged is lost, nothing oversold.
 */
describeCluster('a Redis Cluster master killed mid-sale', () => {
  let svc: TestService;
  let sale: Sale;
  let killed = 0;
  const rebuilt: number[][] = [];
  const step = { name: 'record shards', run: async (_deps: unknown, shards: number[]) => { rebuilt.push(shards); } };

  beforeAll(async () => {
    svc = await startService('all', {
      REDIS_CLUSTER_NODES: clusterNodes, LIVEGIVE_ORDER_TTL_SECONDS: '20', LIVEGIVE_REBUILD_GRACE_MS: '1000', LIVEGIVE_SWEEP_INTERVAL_MS: '500',
      LIVEGIVE_REPUBLISH_AFTER_MS: '2000', LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '1000',
    });
    rebuildSteps.push(step);
    sale = new Sale(() => [svc.url], { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random: rng(13), payRatio: 0.8, refundRatio: 0.1 });
    await sale.prepare({ charities: 2, products: 8, stock: 400, viewers: 30, buyerLimit: 1000 });
  });
  afterAll(async () => {
    rebuildSteps.splice(rebuildSteps.indexOf(step), 1);
    await svc?.stop();
    if (killed) restartNodes();
  });

  it('when the master of several products is killed during the sale, then its replica takes over, only its shards are rebuilt, orders resume, and the invariant holds', async () => {
    const feed = new FeedWatcher(() => [svc.url], sale.setup.streamId);
    feed.start();
    const masters = await Promise.all(sale.setup.productIds.map((p) => masterAddress(svc.deps, stockKey(svc.deps, p))));
    const counts = new Map<string, number>();
    for (const m of masters) counts.set(m, (counts.get(m) ?? 0) + 1);
    const victim = [...counts].sort((a, b) => b[1] - a[1])[0][0];
    const victimProducts = sale.setup.productIds.filter((_, i) => masters[i] === victim);
    const running = sale.run(6);
    await new Promise((r) => setTimeout(r, 4000));
    const acceptedBefore = sale.stats.accepted;
    killed = Number(victim.split(':')[1]);
    killNode(killed);
    // a replica is promoted (cluster-node-timeout 3 s) and the client learns the new owner of the slots
    await waitFor(async () => (await masterAddress(svc.deps, stockKey(svc.deps, victimProducts[0]))) !== victim, 'a replica to take over', 30000, 250);
    await waitFor(async () => rebuilt.length > 0, 'the lost shards to be rebuilt', 90000, 250);
    // orders for the failed master's products are taken again
    await waitFor(async () => {
      const v = sale.setup.viewers[0];
      const r = await call(svc.url, 'POST', '/api/v1/orders', { token: v.token, headers: { 'idempotency-key': `after-${Date.now()}` }, body: { streamId: sale.setup.streamId, productId: victimProducts[0], quantity: 1 } });
      if (r.status === 201) sale.record.accepted.set((r.body as { id: string }).id, { productId: victimProducts[0], quantity: 1 });
      return r.status === 201;
    }, 'an order on the failed-over shard', 30000, 500);
    await new Promise((r) => setTimeout(r, 3000));
    sale.stop();
    await running;
    const { problems, facts, waitedMs } = await settleAndCheck(svc.deps.config.mongo.url, () => svc.url, sale, feed, 90_000);
    feed.close();
    console.log(`failover: killed ${victim} (${victimProducts.length} of 8 products); rebuilt ${rebuilt.map((r) => r.length).join(', ')} of ${SHARDS} shards; ` +
      `${sale.stats.accepted} orders accepted (${acceptedBefore} before the kill), ${sale.stats.paid} paid, ${sale.stats.refunded} refunded; retried ${JSON.stringify(sale.stats.retried)}; ` +
      `${facts?.orders.length} orders checked after ${waitedMs} ms: ${formatProblems(problems)}`);
    expect(problems).toEqual([]);
    expect(await roleOf(killed)).toBe('down');
    // only the failed master's shards were rebuilt, not all of them
    expect(rebuilt[0].length).toBeGreaterThan(0);
    expect(rebuilt[0].length).toBeLessThan(SHARDS);
    expect(sale.stats.accepted).toBeGreaterThan(acceptedBefore);
  }, 300_000);
});
