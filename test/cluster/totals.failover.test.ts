import { startService, type TestService } from '../helpers/app';
import { waitFor } from '../helpers/env';
import { EventWriter, newOrderId, orderEvent } from '../helpers/order-events';
import { summariseLedger } from '../helpers/ledger-check';
import { totKey } from '../helpers/hot-keys';
import { clusterNodes, describeCluster, killNode, masterAddress, restartNodes } from '../helpers/redis-cluster';
import { charityKeyspace, readCharityTotals } from '../../src/allocator';
import { totalsIndexKey } from '../../src/allocator/totals.store';
import { masterOf, runIdFor } from '../../src/infra/redis';

/** Issue 13, build item 4, on the allocator's side: a lost master makes only the charities whose tag it held rebuild. */
describeCluster('a Redis Cluster master holding one charity\'s totals killed', () => {
  let svc: TestService;
  let writer: EventWriter;
  let killed = 0;
  beforeAll(async () => {
    svc = await startService('all', { REDIS_CLUSTER_NODES: clusterNodes, LIVEGIVE_REBUILD_GRACE_MS: '1000', LIVEGIVE_SWEEP_INTERVAL_MS: '500' });
    writer = new EventWriter(svc.deps.config.kafka.topics.orderEvents);
  });
  afterAll(async () => {
    await writer?.close();
    await svc?.stop();
    if (killed) restartNodes();
  });

  it('when the master of one charity\'s tag dies, then its replica takes over, only that charity is rebuilt, and every charity\'s totals equal its ledger', async () => {
    const deps = svc.deps;
    const index = await masterAddress(deps, totalsIndexKey(deps));
    // one charity on each master; the victim's master does not hold the index (that would rightly rebuild every charity)
    const byMaster = new Map<string, string>();
    for (let i = 0; byMaster.size < 3 && i < 200; i++) {
      const at = await masterAddress(deps, charityKeyspace(deps, `fc${i}`)('tot:built'));
      if (!byMaster.has(at)) byMaster.set(at, `fc${i}`);
    }
    const victim = [...byMaster.keys()].find((m) => m !== index)!;
    const a = byMaster.get(victim)!;
    const others = [...byMaster.values()].filter((c) => c !== a);
    const expected = new Map<string, number>();
    const sell = async (n: number) => {
      const events = [];
      for (let i = 0; i < n; i++) {
        const c = [a, ...others][i % 3];
        const spec = { orderId: newOrderId(), charityId: c, streamId: 'fs1', quantity: 1 + (i % 2), pledgePerUnitFen: 7 + i };
        events.push(orderEvent('order.paid', spec));
        expected.set(c, (expected.get(c) ?? 0) + spec.quantity * spec.pledgePerUnitFen);
      }
      await writer.send(events);
      await waitFor(async () => {
        for (const c of [a, ...others]) if ((await readCharityTotals(deps, c).catch(() => ({ donationFen: -1 }))).donationFen !== expected.get(c)) return false;
        return true;
      }, 'every charity\'s totals', 90_000, 250);
    };
    await sell(30);
    // a field no rebuild writes: it survives on every charity that is not rebuilt
    for (const c of [a, ...others]) await deps.redis.hset(totKey(deps, c, `tot:c:${c}`), 'canary', '1');
    // on the victim's replica too: the replica that takes over has the canary, so only a rebuild removes it
    const master = await masterOf(deps.redis, totKey(deps, a, `tot:c:${a}`));
    expect(await master.call('WAIT', 1, 5000)).toBe(1);

    killed = Number(victim.split(':')[1]);
    killNode(killed);
    await waitFor(async () => (await masterAddress(deps, charityKeyspace(deps, a)('tot:built'))) !== victim, 'a replica to take over', 30_000, 250);
    await sell(30);

    const canaries = await Promise.all([a, ...others].map((c) => deps.redis.hget(totKey(deps, c, `tot:c:${c}`), 'canary')));
    expect(canaries).toEqual([null, '1', '1']);
    expect(await deps.redis.get(totKey(deps, a, 'tot:built'))).toBe(await runIdFor(deps.redis, totKey(deps, a, 'tot:built')));
    const ledger = await summariseLedger(deps);
    for (const c of [a, ...others]) {
      expect([c, ledger.byCharity.get(c)!.donationFen, ledger.byCharity.get(c)!.problems]).toEqual([c, expected.get(c), 0]);
      expect(Number((await readCharityTotals(deps, c)).entries)).toBe(ledger.byCharity.get(c)!.count);
    }
  }, 240_000);
});
