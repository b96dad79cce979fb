import { spawnSync } from 'node:child_process';
import path from 'node:path';
import request from 'supertest';
import { startService, admin, type TestService } from '../helpers/app';
import { testEnv, waitFor } from '../helpers/env';
import { EventWriter, newOrderId, orderEvent } from '../helpers/order-events';
import { snapshotTotals, summariseLedger } from '../helpers/ledger-check';
import { spawnAllocator, stopChild } from '../helpers/allocator-process';
import type { OrderEvent } from '../../src/events';
import { totKey } from '../helpers/hot-keys';

const charities = ['c1', 'c2', 'c3'];
const root = path.resolve(__dirname, '../..');

/** Random paid orders (and refunds of a tenth of them), with the donation each charity should end with. */
function orders(n: number, expected: Map<string, number>, counts: { paid: number; refunded: number }): OrderEvent[] {
  const paid: OrderEvent[] = [];
  const refunds: OrderEvent[] = [];
  for (let i = 0; i < n; i++) {
    const spec = { orderId: newOrderId(), charityId: charities[i % 3], streamId: `s${i % 2}`, quantity: 1 + (i % 3), pledgePerUnitFen: 1 + Math.floor(Math.random() * 900) };
    paid.push(orderEvent('order.paid', spec));
    expected.set(spec.charityId, (expected.get(spec.charityId) ?? 0) + spec.quantity * spec.pledgePerUnitFen);
    if (i % 10 === 3) {
      refunds.push(orderEvent('order.refunded', spec));
      expected.set(spec.charityId, expected.get(spec.charityId)! - spec.quantity * spec.pledgePerUnitFen);
    }
  }
  counts.paid += paid.length;
  counts.refunded += refunds.length;
  return [...paid, ...refunds];
}

describe('allocator under crashes, rebalances and lost totals', () => {
  const env = testEnv();
  let svc: TestService;
  let writer: EventWriter;
  const expected = new Map<string, number>();
  const counts = { paid: 0, refunded: 0 };

  const donations = async () => Promise.all(charities.map(async (c) => Number(await svc.deps.redis.hget(totKey(svc.deps, c, 'tot:c', c), 'donationFen'))));
  const allocatedCount = async () => (await Promise.all(charities.map((c) => svc.deps.redis.hget(totKey(svc.deps, c, 'tot:c', c), 'entries')))).reduce((n, v) => n + Number(v ?? 0), 0);
  const settled = () => waitFor(async () => (await donations()).every((v, i) => v === (expected.get(charities[i]) ?? 0)), 'totals to equal the expected donations', 120_000, 250);

  /** Exact sums, no gap and no duplicate in any chain, totals equal to the ledger, one allocation per paid order. */
  async function expectExact(): Promise<void> {
    const ledger = await summariseLedger(svc.deps);
    let allocations = 0;
    let reversals = 0;
    for (const c of charities) {
      const l = ledger.byCharity.get(c)!;
      expect({ c, donationFen: l.donationFen, problems: l.problems, gapless: l.maxSeq === l.count }).toEqual({ c, donationFen: expected.get(c), problems: 0, gapless: true });
      allocations += [...l.keys].filter((k) => k.endsWith(':allocation')).length;
      reversals += [...l.keys].filter((k) => k.endsWith(':reversal')).length;
      const t = await svc.deps.redis.hgetall(totKey(svc.deps, c, 'tot:c', c));
      expect([Number(t.entries), Number(t.matchedFen ?? 0)]).toEqual([l.count, l.matchedFen]);
    }
    expect([allocations, reversals]).toEqual([counts.paid, counts.refunded]);
    const [match] = await svc.deps.db.collection<{ _id: string }>('matches').find({}).toArray();
    const budget = await request(svc.url).get(`/api/v1/matches/${match._id}`).set(admin).expect(200);
    expect(ledger.byMatch.get(match._id) ?? 0).toBe(budget.body.matchedFen);
  }

  beforeAll(async () => {
    svc = await startService('api', {}, env);
    await svc.deps.db.collection('charities').insertOne({ _id: 'c1' as never, name: 'c1', registrationNo: 'x', active: true, createdAt: new Date() });
    await svc.deps.db.collection('streams').insertMany(['s0', 's1'].map((s) => ({ _id: s as never, hostId: 'h', title: s, status: 'live', goalFen: 0, productIds: [], createdAt: new Date() })));
    await request(svc.url).post('/api/v1/matches').set(admin).send({ sponsorName: 'S', streamId: 's0', charityId: 'c1', ratioPercent: 50, capFen: 200_000 }).expect(201);
    writer = new EventWriter(svc.deps.config.kafka.topics.orderEvents);
  });
  afterAll(async () => { await writer?.close(); await svc?.stop(); });

  it('when the allocator process is killed (SIGKILL) in the middle of a batch and restarted, then ledger and totals are exact, with no gap and no duplicate in any chain', async () => {
    await writer.send(orders(6_000, expected, counts));
    const first = await spawnAllocator(env);
    await waitFor(async () => (await allocatedCount()) > 1000, 'the allocator to be under way', 60_000, 20);
    await stopChild(first, 'SIGKILL');
    expect(await allocatedCount()).toBeLessThan(counts.paid + counts.refunded);
    const second = await spawnAllocator(env);
    try {
      await settled();
      await expectExact();
    } finally {
      await stopChild(second, 'SIGTERM');
    }
  }, 240_000);

  it('when two allocators share the group and one stops mid-run, then the other takes its partitions over and everything stays exact', async () => {
    const a = await spawnAllocator(env);
    const b = await spawnAllocator(env);
    try {
      const before = await allocatedCount();
      await writer.send(orders(4_000, expected, counts));
      await waitFor(async () => (await allocatedCount()) > before + 800, 'both allocators to be under way', 60_000, 20);
      await stopChild(a, 'SIGTERM');
      await settled();
      await expectExact();
    } finally {
      await stopChild(a, 'SIGKILL');
      await stopChild(b, 'SIGTERM');
    }
  }, 240_000);

  it('when Redis loses the totals, then `livegive rebuild-totals` and an allocator start each recompute the same numbers from the ledger', async () => {
    const before = await snapshotTotals(svc.deps);
    const wipe = async () => {
      // every charity's tag, the stream and host indexes and the index marker (all that the allocator keeps under {tot…})
      const keys = await svc.deps.redis.keys(`${svc.deps.config.redis.prefix}{tot*`);
      if (keys.length) await svc.deps.redis.del(...keys);
    };
    await wipe();
    expect((await request(svc.url).get('/api/v1/streams/s0/totals')).status).toBe(503);
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'rebuild-totals'], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
    expect({ status: cli.status, stderr: cli.stderr.slice(-500) }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(cli.stdout.trim().split('\n').pop()!)).toMatchObject({ entries: expect.any(Number), chainProblems: 0 });
    expect(await snapshotTotals(svc.deps)).toEqual(before);

    await wipe();
    const child = await spawnAllocator(env);
    try {
      expect(await snapshotTotals(svc.deps)).toEqual(before);
      // and the chains continue from the rebuilt heads
      await writer.send(orders(300, expected, counts));
      await settled();
      await expectExact();
    } finally {
      await stopChild(child, 'SIGTERM');
    }
  }, 420_000); // two full ledger scans: the MongoDB-wire test server scans slowly while other suites write
});
