import Redis from 'ioredis';
import { startService, type TestService } from '../helpers/app';
import { testEnv } from '../helpers/env';
import { newOrderId, orderEvent } from '../helpers/order-events';
import { PrivateRedis } from '../helpers/redis-server';
import { streamTotalsHash, totKey } from '../helpers/hot-keys';
import { allocateBatch, type BatchInput } from '../../src/allocator/allocate-batch';
import { allocate } from '../../src/allocator/allocate';
import { LedgerRepository } from '../../src/allocator/ledger.repository';
import { allocatedDayKey, allocatedEventKey, applyPlan, displayOf, INDEXED_FOR_MS, readHeads, streamCharitiesKey, takeMatches, totalsChannel, TotalsMissing } from '../../src/allocator/totals.store';
import { rebuildStaleTotals, rebuildTotals } from '../../src/allocator/rebuild-totals';
import { createDeps, closeDeps, type Deps } from '../../src/deps';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/infra/logger';
import type { OrderEvent } from '../../src/events';

/** One Kafka batch of events (keyed by charity, as the orders slice produces them) on one partition from an offset. */
function batchOf(events: OrderEvent[], from: number, partition = 0): BatchInput {
  return { groupId: 'g', topic: 't', partition, messages: events.map((e, i) => ({ key: Buffer.from(e.charityId), value: Buffer.from(JSON.stringify(e)), offset: String(from + i) })) };
}
const paid = (charityId: string, streamId: string, quantity: number, pledgePerUnitFen: number) => orderEvent('order.paid', { orderId: newOrderId(), charityId, streamId, quantity, pledgePerUnitFen });

/** Every key of a charity's allocator state that these tests write, as DUMP bytes (a key rewritten reads differently only if its value changed; a missing one is null). */
async function dumpCharity(deps: Deps, c: string, streams: string[]): Promise<(string | null)[]> {
  const keys = [`tot:c:${c}`, `chain:${c}`, 'tot:names', 'tot:don', 'tot:confirm', 'tot:built', 'tot:h:h1', 'tot:p:p1', ...streams.flatMap((s) => [`tot:s:${s}`, `tot:recent:${s}`])].map((k) => totKey(deps, c, k));
  return Promise.all(keys.map(async (k) => (await deps.redis.dumpBuffer(k))?.toString('hex') ?? null));
}

/** A charity's totals as comparable text (without the feed's seq, which a rebuild moves on). */
async function totalsOf(deps: Deps, c: string, streams: string[]) {
  const strip = ({ seq: _s, ...h }: Record<string, string>) => h;
  return {
    charity: await deps.redis.hgetall(totKey(deps, c, `tot:c:${c}`)),
    head: await deps.redis.hgetall(totKey(deps, c, `chain:${c}`)),
    streams: await Promise.all(streams.map(async (s) => strip(await deps.redis.hgetall(totKey(deps, c, `tot:s:${s}`))))),
    donations: await deps.redis.hgetall(totKey(deps, c, 'tot:don')),
  };
}

describe('allocator state under one hash tag per charity', () => {
  let svc: TestService;
  beforeAll(async () => { svc = await startService('api'); });
  afterAll(async () => { await svc?.stop(); });

  it('when a crash stops a batch after the first charity\'s script, then the retry folds the rest once and the totals equal a rebuild from the ledger', async () => {
    const deps = svc.deps;
    const [c1, c2] = ['cx1', 'cx2'];
    await rebuildTotals(deps, [c1, c2]);
    const events = [paid(c1, 'sx1', 3, 100), paid(c2, 'sx1', 2, 250), paid(c1, 'sx2', 1, 70), paid(c2, 'sx2', 4, 5)];
    const b = batchOf(events, 0);
    // what allocateBatch does up to its totals, then only the first charity's script: a SIGKILL between the two
    const pes = events.map((event, i) => ({ event, partition: 0, offset: i }));
    const heads = await readHeads(deps, [c1, c2]);
    const plans = allocate(pes, heads, await takeMatches(deps, pes));
    await new LedgerRepository(deps).append(plans.flatMap((p) => p.entries.map((entry) => ({ entry, display: displayOf(p.sources.get(entry.key)!.event), partition: 0, offset: p.sources.get(entry.key)!.offset }))));
    const first = plans.find((p) => p.charityId === c1)!;
    expect((await applyPlan(deps, first)).slice(0, 2)).toEqual(['OK', 1]);
    expect((await readHeads(deps, [c2])).get(c2)).toBeUndefined();

    // the retry re-reads the heads: c1's moved already (its entries are folded, not again), c2's did not
    await allocateBatch(deps, b);
    const donation = async (c: string) => Number(await deps.redis.hget(totKey(deps, c, `tot:c:${c}`), 'donationFen'));
    expect([await donation(c1), await donation(c2)]).toEqual([370, 520]);
    expect([(await streamTotalsHash(deps, 'sx1')).donationFen, (await streamTotalsHash(deps, 'sx2')).donationFen]).toEqual(['800', '90']);
    // and a redelivery of the whole batch changes nothing
    await allocateBatch(deps, b);
    const live = [await totalsOf(deps, c1, ['sx1', 'sx2']), await totalsOf(deps, c2, ['sx1', 'sx2'])];
    await rebuildTotals(deps, [c1, c2]);
    expect([await totalsOf(deps, c1, ['sx1', 'sx2']), await totalsOf(deps, c2, ['sx1', 'sx2'])]).toEqual(live);
    expect(Number(live[0].charity.entries) + Number(live[1].charity.entries)).toBe(4);
  });

  it('when one batch moves a stream through three charities\' scripts, then the feed is told once for that stream, after every script', async () => {
    const deps = svc.deps;
    const cs = ['cn1', 'cn2', 'cn3'];
    await rebuildTotals(deps, cs);
    const sub = deps.redis.duplicate();
    const heard: { streamId: string; seq: number }[] = [];
    sub.on('message', (_ch: string, m: string) => heard.push(JSON.parse(m)));
    await sub.subscribe(totalsChannel(deps));
    try {
      // sn1 is sold for all three charities, sn2 for the first only
      await allocateBatch(deps, batchOf([...cs.map((c, i) => paid(c, 'sn1', 1 + i, 100)), paid('cn1', 'sn2', 2, 50)], 0, 3));
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await sub.quit();
    }
    // one message a stream (was one a charity script: three for sn1, the frame after the first read missing the rest)
    expect(heard.map((m) => m.streamId).sort()).toEqual(['sn1', 'sn2']);
    // and by the time it arrives every charity's partial is there: one read shows the whole batch
    expect((await streamTotalsHash(deps, 'sn1')).donationFen).toBe(String(100 + 200 + 300));
    expect(heard.find((m) => m.streamId === 'sn1')!.seq).toBeGreaterThanOrEqual(1);
  });

  it('when one charity\'s totals are lost, then only that charity is rebuilt, exactly, and the other charities\' keys are not touched', async () => {
    const deps = svc.deps;
    const cs = ['cy1', 'cy2', 'cy3'];
    await rebuildTotals(deps, cs);
    await allocateBatch(deps, batchOf(cs.flatMap((c, i) => [paid(c, 'sy1', 1 + i, 100), paid(c, 'sy2', 2, 10 + i)]), 0, 1));
    const expected = await totalsOf(deps, 'cy2', ['sy1', 'sy2']);
    const others = await Promise.all(['cy1', 'cy3'].map((c) => dumpCharity(deps, c, ['sy1', 'sy2'])));
    // as a failover to a replica that never got cy2's last writes: its marker names another server, and a total is off
    await deps.redis.set(totKey(deps, 'cy2', 'tot:built'), 'a-server-that-is-gone');
    await deps.redis.hincrby(totKey(deps, 'cy2', 'tot:c:cy2'), 'donationFen', -100);
    const next = [paid('cy2', 'sy1', 1, 1000)];
    const err = await readHeads(deps, cs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TotalsMissing);
    expect((err as TotalsMissing).charityIds).toEqual(['cy2']);
    const report = await rebuildTotals(deps, (err as TotalsMissing).charityIds);
    expect([report.charities, report.entries]).toEqual([1, 2]);
    expect(await totalsOf(deps, 'cy2', ['sy1', 'sy2'])).toEqual(expected);
    // the allocator's own path: a batch that finds the charity's marker stale rebuilds that charity, then goes on
    await deps.redis.set(totKey(deps, 'cy2', 'tot:built'), 'a-server-that-is-gone');
    await deps.redis.hincrby(totKey(deps, 'cy2', 'tot:c:cy2'), 'donationFen', -100);
    await allocateBatch(deps, batchOf(next, 6, 1));
    expect(Number(await deps.redis.hget(totKey(deps, 'cy2', 'tot:c:cy2'), 'donationFen'))).toBe(200 + 22 + 1000);
    expect(await Promise.all(['cy1', 'cy3'].map((c) => dumpCharity(deps, c, ['sy1', 'sy2'])))).toEqual(others);
    // the stream reads the sum of the three charities' partials
    expect((await streamTotalsHash(deps, 'sy1')).donationFen).toBe(String(100 + 200 + 300 + 1000));
  });

  it('when a fetch\'s batches of two partitions are allocated together, then each charity\'s chain, head offset, totals and ledger equal those of the same batches allocated one by one, and a repeat of the pair adds nothing', async () => {
    const deps = svc.deps;
    const [together, apart] = [['cg1', 'cg2'], ['cg3', 'cg4']];
    await rebuildTotals(deps, [...together, ...apart]);
    // the same payments for each pair: charity 1 on partition 3 from offset 10, charity 2 on partition 5 from offset 40
    const spec = [[3, 100, 2], [1, 50, 1]] as const;
    const batches = (cs: string[]) => cs.map((c, i) => batchOf(spec.map(([q, fen]) => paid(c, `sg${i}`, q + i, fen)), i === 0 ? 10 : 40, i === 0 ? 3 : 5));
    const pair = batches(together);
    expect(await allocateBatch(deps, pair)).toMatchObject({ entries: 4, inserted: 4 });
    for (const b of batches(apart)) await allocateBatch(deps, b);
    const view = async (c: string, s: string) => {
      const t = await totalsOf(deps, c, [s]);
      const rows = await deps.db.collection('ledger').find({ charityId: c }, { projection: { _id: 0, seq: 1, amountFen: 1, kind: 1, partition: 1, offset: 1 } }).sort({ seq: 1 }).toArray();
      return { totals: t.charity, head: { seq: t.head.seq, offset: t.head.offset }, donationFen: t.streams[0].donationFen, rows };
    };
    for (const i of [0, 1]) expect(await view(together[i], `sg${i}`)).toEqual(await view(apart[i], `sg${i}`));
    expect((await deps.redis.hgetall(totKey(deps, 'cg2', 'chain:cg2'))).offset).toBe('41');
    // redelivered after a crash before the offsets were committed: nothing new
    expect(await allocateBatch(deps, pair)).toMatchObject({ entries: 0 });
    expect(await deps.db.collection('ledger').countDocuments({ charityId: { $in: together } })).toBe(4);
  });

  it('when a payment reaches the log again at a later offset (in the same batch or a later one), then it is allocated once, and its id is remembered by the same script that moved the head', async () => {
    const deps = svc.deps;
    const c = 'cr1';
    await rebuildTotals(deps, [c]);
    const [a, b] = [paid(c, 'sr1', 2, 100), paid(c, 'sr1', 1, 300)];
    // a's copy twice in one batch, then a and b again in the next batch at new offsets (an outbox sweep racing the acknowledgement)
    expect(await allocateBatch(deps, batchOf([a, a, b], 0))).toMatchObject({ entries: 2, inserted: 2 });
    const head = await deps.redis.hgetall(totKey(deps, c, `chain:${c}`));
    expect(head).toMatchObject({ seq: '2', offset: '2' });
    // in the hash of the day they occurred, which expires 30 days after its last write
    for (const e of [a, b]) {
      expect(await deps.redis.hexists(allocatedDayKey(deps, c, e.occurredAt), e.eventId)).toBe(1);
      expect(await deps.redis.ttl(allocatedDayKey(deps, c, e.occurredAt))).toBeGreaterThan(29 * 86400);
    }
    expect(await allocateBatch(deps, batchOf([b, a], 7))).toMatchObject({ entries: 0 });
    expect(await deps.redis.hgetall(totKey(deps, c, `chain:${c}`))).toEqual(head);
    expect(await deps.db.collection('ledger').countDocuments({ charityId: c })).toBe(2);
    expect((await deps.redis.hgetall(totKey(deps, c, `tot:c:${c}`))).donationFen).toBe('500');
  });

  it('when a payment was remembered by an allocator of the release before (a key per event), then its copy is still known and not allocated again', async () => {
    const deps = svc.deps;
    const c = 'cr2';
    await rebuildTotals(deps, [c]);
    const [old, fresh] = [paid(c, 'sr2', 1, 100), paid(c, 'sr2', 2, 300)];
    // what the earlier apply script wrote for an event it folded in (its entry was written then too; only the memory matters here)
    await deps.redis.set(allocatedEventKey(deps, c, old.eventId), '1', 'EX', 3600);
    expect(await allocateBatch(deps, batchOf([old, fresh], 0))).toMatchObject({ entries: 1 });
    expect((await deps.redis.hgetall(totKey(deps, c, `tot:c:${c}`))).donationFen).toBe('600');
    expect(await deps.redis.hexists(allocatedDayKey(deps, c, old.occurredAt), old.eventId)).toBe(0);
  });

  it('when a batch holds only placed, expired and cancelled orders, then it changes nothing in Redis and tells no screen, and the payments around it are allocated once, replayed or not', async () => {
    const deps = svc.deps;
    const c = 'cq1';
    await rebuildTotals(deps, [c]);
    const spec = (orderId: string) => ({ orderId, charityId: c, streamId: 'sq1', quantity: 2, pledgePerUnitFen: 150 });
    const [o1, o2, o3, o4] = [newOrderId(), newOrderId(), newOrderId(), newOrderId()];
    expect(await allocateBatch(deps, batchOf([orderEvent('order.placed', spec(o1)), orderEvent('order.paid', spec(o1))], 0))).toMatchObject({ entries: 1 });
    const before = await dumpCharity(deps, c, ['sq1']);
    const headBefore = await deps.redis.hgetall(totKey(deps, c, `chain:${c}`));
    expect(headBefore).toMatchObject({ seq: '1', offset: '1' });

    // every message on the totals channel while the quiet batches run (the feed reads totals on each)
    const sub = deps.redis.duplicate();
    const heard: string[] = [];
    sub.on('message', (_ch: string, m: string) => heard.push(m));
    await sub.subscribe(totalsChannel(deps));
    try {
      const quiet = [orderEvent('order.placed', spec(o2)), orderEvent('order.placed', spec(o3)), orderEvent('order.expired', spec(o2)), orderEvent('order.cancelled', spec(o3))];
      expect(await allocateBatch(deps, batchOf(quiet, 2))).toEqual({ entries: 0, inserted: 0, dead: 0 });
      // replayed: still nothing
      expect(await allocateBatch(deps, batchOf(quiet, 2))).toEqual({ entries: 0, inserted: 0, dead: 0 });
      expect(await dumpCharity(deps, c, ['sq1'])).toEqual(before);
      // a payment after them moves the head past them; the first payment replayed behind it is folded already
      expect(await allocateBatch(deps, batchOf([orderEvent('order.placed', spec(o4)), orderEvent('order.paid', spec(o4))], 6))).toMatchObject({ entries: 1 });
      expect(await allocateBatch(deps, batchOf([orderEvent('order.placed', spec(o1)), orderEvent('order.paid', spec(o1))], 0))).toMatchObject({ entries: 0 });
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await sub.quit();
    }
    // the one message is the second payment's
    expect(heard).toHaveLength(1);
    expect(await deps.redis.hgetall(totKey(deps, c, `chain:${c}`))).toMatchObject({ seq: '2', offset: '7' });
    expect(await deps.db.collection('ledger').countDocuments({ charityId: c })).toBe(2);
    expect((await deps.redis.hgetall(totKey(deps, c, `tot:c:${c}`))).donationFen).toBe('600');
    // and a rebuild from the ledger agrees with the head, offset included
    const live = await totalsOf(deps, c, ['sq1']);
    await rebuildTotals(deps, [c]);
    expect(await totalsOf(deps, c, ['sq1'])).toEqual(live);
  });
});

describe('a totals rebuild among many unrelated keys', () => {
  let redis: PrivateRedis;
  let deps: Deps;
  let admin: Redis;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    deps = await createDeps(loadConfig(testEnv({ REDIS_URL: redis.url })), { logger: createLogger('silent') });
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    if (deps) await closeDeps(deps);
    await redis?.down({ wipe: true });
  });

  it('when Redis holds 200,000 keys of something else, then a rebuild of every charity issues no SCAN and leaves those keys alone', async () => {
    for (let i = 0; i < 200_000; i += 10_000) await admin.mset(...Array.from({ length: 10_000 }, (_, j) => [`other-app:{tot}:key:${i + j}`, 'x']).flat());
    await rebuildTotals(deps, ['cz1', 'cz2']);
    await allocateBatch(deps, batchOf([paid('cz1', 'sz1', 2, 300), paid('cz2', 'sz1', 1, 50)], 0));
    const scans = async () => Number(/cmdstat_scan:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
    const before = await scans();
    const t0 = Date.now();
    const report = await rebuildTotals(deps);
    const ms = Date.now() - t0;
    expect(await scans()).toBe(before);
    expect([report.charities, report.entries]).toEqual([2, 2]);
    expect(await admin.dbsize()).toBeGreaterThanOrEqual(200_000);
    expect(await admin.get('other-app:{tot}:key:199999')).toBe('x');
    expect((await streamTotalsHash(deps, 'sz1')).donationFen).toBe('650');
    console.log(`rebuild of 2 charities among 200,000 unrelated keys: ${ms} ms, 0 SCAN calls`);
  });

  it('when one charity\'s payments keep coming on the same stream, then its index entries are written with its first batch only, and one dropped meanwhile is written again by a batch after INDEXED_FOR_MS', async () => {
    const sadds = async () => Number(/cmdstat_sadd:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
    await rebuildTotals(deps, ['cw1']);
    const s0 = await sadds();
    await allocateBatch(deps, batchOf([paid('cw1', 'sw1', 1, 10)], 0));
    // the charity's copies (stream, host) and the stream's and host's own entries
    expect(await sadds() - s0).toBe(4);
    for (let i = 1; i <= 5; i++) await allocateBatch(deps, batchOf([paid('cw1', 'sw1', 1, 10)], i));
    expect(await sadds() - s0).toBe(4);
    // lost by a failover of the stream's master, and no recovery ran: the stream misses the charity for a while
    await deps.redis.srem(streamCharitiesKey(deps, 'sw1'), 'cw1');
    expect((await streamTotalsHash(deps, 'sw1')).donationFen).toBeUndefined();
    const later = Date.now() + INDEXED_FOR_MS + 1;
    const clock = jest.spyOn(Date, 'now').mockReturnValue(later);
    try {
      await allocateBatch(deps, batchOf([paid('cw1', 'sw1', 1, 10)], 6));
    } finally {
      clock.mockRestore();
    }
    expect(await sadds() - s0).toBe(8);
    expect((await streamTotalsHash(deps, 'sw1')).donationFen).toBe('70');
  });

  it('when a failover drops the entry of a stream that points at a charity\'s partial, then the recovery after a partial loss puts it back and the stream sums every charity again', async () => {
    await allocateBatch(deps, batchOf([paid('cz1', 'sz2', 1, 40), paid('cz2', 'sz2', 3, 20)], 2));
    expect((await streamTotalsHash(deps, 'sz2')).donationFen).toBe('100');
    // the stream's slot lost its index entry for cz2 (its master failed over before the replica had it); cz2's own slot kept its partial
    await deps.redis.srem(streamCharitiesKey(deps, 'sz2'), 'cz2');
    expect((await streamTotalsHash(deps, 'sz2')).donationFen).toBe('40');
    const report = await rebuildStaleTotals(deps); // what recovery runs after a partial loss; no charity's own marker is stale
    expect(report.charities).toBe(0);
    expect((await streamTotalsHash(deps, 'sz2')).donationFen).toBe('100');
    // a charity rebuilt from the ledger keeps its copy of the index too
    await rebuildTotals(deps, ['cz2']);
    await deps.redis.srem(streamCharitiesKey(deps, 'sz2'), 'cz2');
    await rebuildStaleTotals(deps);
    expect((await streamTotalsHash(deps, 'sz2')).donationFen).toBe('100');
  });
});
