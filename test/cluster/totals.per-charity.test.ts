import { startService, type TestService } from '../helpers/app';
import { testEnv, waitFor } from '../helpers/env';
import { EventWriter, newOrderId, orderEvent } from '../helpers/order-events';
import { summariseLedger } from '../helpers/ledger-check';
import { clusterNodes, describeCluster, masterAddress } from '../helpers/redis-cluster';
import { charityKeyspace, readCharityTotals } from '../../src/allocator';
import { streamTotalsHash } from '../helpers/hot-keys';
import { slotOf } from '../../src/infra/redis';

/** Issue 13 on the allocator's side: each charity's totals, chain head and budgets under its own tag, so charities spread over the masters. */
describeCluster('allocator state per charity on a Redis Cluster', () => {
  let svc: TestService;
  let writer: EventWriter;
  beforeAll(async () => {
    svc = await startService('all', {}, testEnv({ REDIS_CLUSTER_NODES: clusterNodes }));
    writer = new EventWriter(svc.deps.config.kafka.topics.orderEvents);
  });
  afterAll(async () => { await writer?.close(); await svc?.stop(); });

  it('when two charities\' tags hash to different masters, then their totals and heads live there and a sale to both allocates exactly', async () => {
    const deps = svc.deps;
    // the first two candidate ids whose tags are served by different masters
    const byMaster = new Map<string, string>();
    for (let i = 0; byMaster.size < 2 && i < 100; i++) {
      const id = `pc${i}`;
      const at = await masterAddress(deps, charityKeyspace(deps, id)('tot:built'));
      if (!byMaster.has(at)) byMaster.set(at, id);
    }
    const [a, b] = [...byMaster.values()];
    const keysOf = (c: string) => [charityKeyspace(deps, c)('tot:built'), charityKeyspace(deps, c)(`chain:${c}`), charityKeyspace(deps, c)(`tot:c:${c}`), charityKeyspace(deps, c)('tot:s:ps1')];
    for (const c of [a, b]) {
      // every key of one charity in one slot, as the server computes it
      const slots = await Promise.all(keysOf(c).map(async (k) => Number(await deps.redis.call('CLUSTER', 'KEYSLOT', k))));
      expect(slots).toEqual(keysOf(c).map(() => slotOf(keysOf(c)[0])));
    }
    expect(slotOf(keysOf(a)[0])).not.toBe(slotOf(keysOf(b)[0]));

    const expected = new Map([[a, 0], [b, 0]]);
    const events = [];
    for (let i = 0; i < 60; i++) {
      const c = i % 2 ? a : b;
      const spec = { orderId: newOrderId(), charityId: c, streamId: 'ps1', quantity: 1 + (i % 3), pledgePerUnitFen: 10 + i };
      events.push(orderEvent('order.paid', spec));
      expected.set(c, expected.get(c)! + spec.quantity * spec.pledgePerUnitFen);
    }
    await writer.send(events);
    const total = expected.get(a)! + expected.get(b)!;
    // the stream's totals are the sum of the two charities' partials, each read from its own master
    await waitFor(async () => Number((await streamTotalsHash(deps, 'ps1')).donationFen) === total, 'the stream to show both charities\' donations', 60_000, 200);
    const stream = await streamTotalsHash(deps, 'ps1');
    expect([a, b].map((c) => Number(stream[`c:${c}:d`]))).toEqual([expected.get(a), expected.get(b)]);
    expect(Number(stream.orders)).toBe(60);
    const ledger = await summariseLedger(deps);
    for (const c of [a, b]) {
      expect((await readCharityTotals(deps, c)).donationFen).toBe(expected.get(c));
      expect(ledger.byCharity.get(c)!.donationFen).toBe(expected.get(c));
      expect(ledger.byCharity.get(c)!.problems).toBe(0);
      // the chain head is on the master of the charity's own tag, and moved to the ledger's last entry
      expect(Number(await deps.redis.hget(keysOf(c)[1], 'seq'))).toBe(ledger.byCharity.get(c)!.maxSeq);
    }
    expect(await masterAddress(deps, keysOf(a)[1])).not.toBe(await masterAddress(deps, keysOf(b)[1]));
  }, 120_000);
});
