import request from 'supertest';
import { MongoClient } from 'mongodb';
import type { Deps } from '../../src/deps';
import { startService, TestService } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { order, pay } from '../helpers/orders';
import { orderEvent } from '../helpers/order-events';
import type { OrderEvent } from '../../src/events';
import { allocateBatch, type BatchInput } from '../../src/allocator/allocate-batch';
import { allocate } from '../../src/allocator/allocate';
import { chainEntries } from '../../src/allocator/chain';
import { displayOf, readHeads } from '../../src/allocator/totals.store';
import { appendEntries, LedgerDerivedRepository, LedgerRepository, rebuildTotals } from '../../src/allocator';
import { DeriveAll } from '../../src/allocator/ledger.derived';
import { GENESIS, LEDGER_BLOCK_SIZE, type LedgerEntry } from '../../src/allocator/ledger.types';
import { buildStatement } from '../../src/statements';
import { StatementsRepository } from '../../src/statements/statements.repository';
import { checkChain } from '../../src/statements/verify-ledger';
import { verifyReceipt, type PublicHead, type Receipt } from '../../src/statements';

const TOPIC = 'unused-topic';
let offset = 0;
/** One Kafka batch of events on partition 0, as the consumer would hand it to the allocator. */
const batchOf = (events: OrderEvent[]): BatchInput => ({
  groupId: 'g', topic: TOPIC, partition: 0,
  messages: events.map((e) => ({ key: Buffer.from(e.charityId), value: Buffer.from(JSON.stringify(e)), offset: String(offset++) })),
});

/** What a statement must say, computed from the order events alone (each event is one entry, numbered in log order). */
function expected(events: OrderEvent[], from: string, to: string) {
  const [f, t] = [Date.parse(from), Date.parse(to)];
  const signed = events.map((e, i) => ({ seq: i + 1, at: Date.parse(e.occurredAt), fen: (e.type === 'order.paid' ? 1 : -1) * e.pledgePerUnitFen * e.quantity, paid: e.type === 'order.paid' }));
  const inP = signed.filter((s) => s.at >= f && s.at < t);
  const openingFen = signed.filter((s) => s.at < f).reduce((n, s) => n + s.fen, 0);
  const allocatedFen = inP.filter((s) => s.paid).reduce((n, s) => n + s.fen, 0);
  const reversedFen = inP.filter((s) => !s.paid).reduce((n, s) => n + s.fen, 0);
  return {
    openingFen, allocatedFen, reversedFen, closingFen: openingFen + allocatedFen + reversedFen, entries: inP.length,
    firstSeq: inP.length ? Math.min(...inP.map((s) => s.seq)) : null, lastSeq: inP.length ? Math.max(...inP.map((s) => s.seq)) : null,
    headSeq: Math.max(0, ...signed.filter((s) => s.at < t).map((s) => s.seq)),
  };
}

describe('the ledger at campaign scale: equality reads, derived documents, proofs', () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startService('api');
    await rebuildTotals(svc.deps); // marks the totals as built by this Redis, as a starting allocator does
  });
  afterAll(async () => { await svc?.stop(); });

  it('when entries fall exactly on a period\'s edges and a refund lands in a later period, then the statement equals the figures computed from the orders', async () => {
    const c = `c_edges_${Date.now()}`;
    const spec = (orderId: string, quantity: number, pledgePerUnitFen: number) => ({ orderId, charityId: c, streamId: 's1', quantity, pledgePerUnitFen });
    const at = (iso: string) => new Date(iso);
    const events = [
      orderEvent('order.paid', spec('o6', 1, 700), at('2026-07-15T08:00:00.000Z')),
      orderEvent('order.paid', spec('o7', 2, 90), at('2026-08-31T23:59:59.999Z')),
      orderEvent('order.paid', spec('o1', 2, 150), at('2026-09-30T23:59:59.999Z')),
      orderEvent('order.paid', spec('o2', 1, 500), at('2026-10-01T00:00:00.000Z')),
      orderEvent('order.refunded', spec('o1', 2, 150), at('2026-10-05T09:30:00.000Z')),
      orderEvent('order.paid', spec('o3', 3, 100), at('2026-11-15T12:00:00.000Z')),
      orderEvent('order.paid', spec('o5', 1, 333), at('2026-12-31T23:59:59.999Z')),
      orderEvent('order.paid', spec('o4', 4, 25), at('2027-01-01T00:00:00.000Z')),
      orderEvent('order.refunded', spec('o3', 1, 100), at('2027-01-02T10:00:00.000Z')),
    ];
    await allocateBatch(svc.deps, batchOf(events.slice(0, 4)));
    await allocateBatch(svc.deps, batchOf(events.slice(4)));
    const periods: Array<[string, string]> = [
      ['2026-10-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'], // the quarter: o2 at from is in, o4 at to is out
      ['2026-09-30T23:59:59.999Z', '2026-10-05T12:00:00.000Z'], // edges inside days
      ['2026-08-31T23:59:59.999Z', '2026-12-31T23:59:59.999Z'],
      ['2027-01-01T00:00:00.000Z', '2027-02-01T00:00:00.000Z'],
      ['2026-01-01T00:00:00.000Z', '2026-07-15T08:00:00.000Z'],
    ];
    const chain: LedgerEntry[] = [];
    for await (const e of new LedgerRepository(svc.deps).chain(c)) chain.push(e);
    for (const [from, to] of periods) {
      const s = await buildStatement(svc.deps, c, { from: new Date(from), to: new Date(to) });
      expect({ period: [from, to], ...s }).toMatchObject({ period: [from, to], ...expected(events, from, to) });
      // and equal, figure for figure, to the statement recomputed from the whole chain in one pass
      const again = await checkChain(c, (async function* () { yield* chain; })(), { from: new Date(from), to: new Date(to) });
      expect(s.headHash).toBe(again.statement!.headHash);
      expect({ ...s, charityName: '', registrationNo: '', byStream: [], byHost: [], byProduct: [], digest: '' })
        .toEqual({ ...again.statement!, charityName: '', registrationNo: '', byStream: [], byHost: [], byProduct: [], digest: '' });
    }
  }, 60_000);

  it('when a batch is cut off between its ledger insert and its derived writes (or after them), then the retry leaves derived documents equal to a rebuild from the ledger', async () => {
    const c = `c_crash_${Date.now()}`;
    const base = Date.parse('2026-10-20T00:00:00.000Z');
    const events = Array.from({ length: 2600 }, (_, i) => orderEvent('order.paid', { orderId: `oc${i}`, charityId: c, streamId: `s${i % 3}`, quantity: 1 + (i % 3), pledgePerUnitFen: 100 + (i % 7) }, new Date(base + i * 20 * 60_000)));
    const batches = [0, 700, 1400, 2100, 2600].slice(1).map((end, i, a) => batchOf(events.slice(i === 0 ? 0 : a[i - 1], end)));
    const repo = new LedgerRepository(svc.deps);
    const derived = new LedgerDerivedRepository(svc.deps);
    /** What allocateBatch does up to the crash: plan from the heads, insert the entries, and (optionally) the derived documents. */
    const cutOff = async (b: BatchInput, withDerived: boolean) => {
      const heads = await readHeads(svc.deps, [c]);
      const plans = allocate(b.messages.map((m) => ({ event: JSON.parse(m.value!.toString()) as OrderEvent, partition: 0, offset: Number(m.offset) })), heads, new Map());
      await repo.append(plans.flatMap((p) => p.entries.map((entry) => ({ entry, display: displayOf(p.sources.get(entry.key)!.event), partition: 0, offset: p.sources.get(entry.key)!.offset }))));
      if (withDerived) for (const p of plans) await derived.afterAppend(p.charityId, p.entries);
    };
    await allocateBatch(svc.deps, batches[0]);
    await cutOff(batches[1], false); // crash after the ledger insert
    await allocateBatch(svc.deps, batches[1]); // the restarted allocator gets the same batch again
    await cutOff(batches[2], true); // crash after the derived writes, before the Redis head moved
    await allocateBatch(svc.deps, batches[2]);
    await allocateBatch(svc.deps, batches[3]);

    const rebuilt = new DeriveAll(c);
    for await (const e of repo.chain(c)) rebuilt.add(e);
    expect(rebuilt.head.seq).toBe(2600);
    // every complete block, and every node over 2, 4, 8 … complete blocks
    const blocks = Math.floor(2600 / LEDGER_BLOCK_SIZE);
    expect(rebuilt.tree.size).toBe(Array.from({ length: 12 }, (_, k) => Math.floor(blocks / 2 ** k)).reduce((a, b) => a + b, 0));
    const stored = {
      periods: await derived.periods.find({ charityId: c }).sort({ _id: 1 }).toArray(),
      tree: await derived.tree.find({ charityId: c }).sort({ _id: 1 }).toArray(),
    };
    const byId = <T extends { _id: string }>(xs: Iterable<T>) => [...xs].sort((a, b) => (a._id < b._id ? -1 : 1));
    expect(stored.periods).toEqual(byId(rebuilt.periods.values()));
    expect(stored.tree).toEqual(byId(rebuilt.tree.values()));
    // the published head is the month balances' highest seq: the chain's last entry
    expect(await new StatementsRepository(svc.deps).head(c)).toEqual({ seq: rebuilt.head.seq, hash: rebuilt.head.hash });
    const total = events.reduce((n, e) => n + e.pledgePerUnitFen * e.quantity, 0);
    expect(stored.periods.filter((p) => p.scope.endsWith(':M')).reduce((n, p) => n + p.sumFen, 0)).toBe(total);
    const s = await buildStatement(svc.deps, c, { from: new Date('2026-11-01T00:00:00.000Z'), to: new Date('2026-11-10T07:00:00.000Z') });
    expect(s).toMatchObject(expected(events, '2026-11-01T00:00:00.000Z', '2026-11-10T07:00:00.000Z'));
    // rebuilding writes back exactly what is there
    await derived.rebuild(c, repo.chain(c));
    expect(await derived.periods.find({ charityId: c }).sort({ _id: 1 }).toArray()).toEqual(stored.periods);
  }, 180_000);

  it('when a batch\'s day balances were written and its month balance (the published head) was not, then its retry moves the month once and leaves the days as they were', async () => {
    const c = `c_half_${Date.now()}`;
    const base = Date.parse('2026-10-20T00:00:00.000Z');
    const events = Array.from({ length: 40 }, (_, i) => orderEvent('order.paid', { orderId: `oh${i}`, charityId: c, streamId: 's1', quantity: 1, pledgePerUnitFen: 100 + i }, new Date(base + i * 3 * 3600_000)));
    await allocateBatch(svc.deps, batchOf(events.slice(0, 20)));
    const derived = new LedgerDerivedRepository(svc.deps);
    const heads = new StatementsRepository(svc.deps);
    const month = await derived.periods.findOne({ _id: `${c}:M:2026-10` });
    const headBefore = await heads.head(c);
    expect(headBefore.seq).toBe(20);
    // the second batch's entries and derived documents, then its month balance put back as it was: a cut between the two
    const next = batchOf(events.slice(20)).messages.map((m, i) => ({ event: events[20 + i], partition: 0, offset: Number(m.offset) }));
    const plans = allocate(next, await readHeads(svc.deps, [c]), new Map());
    await new LedgerRepository(svc.deps).append(plans[0].entries.map((entry) => ({ entry, display: displayOf(plans[0].sources.get(entry.key)!.event), partition: 0, offset: plans[0].sources.get(entry.key)!.offset })));
    await derived.afterAppend(c, plans[0].entries);
    const days = await derived.periods.find({ scope: `${c}:D:2026-10` }).sort({ _id: 1 }).toArray();
    await derived.periods.replaceOne({ _id: month!._id }, month!);
    expect(await heads.head(c)).toEqual(headBefore);
    await derived.afterAppend(c, plans[0].entries); // the retry
    expect(await derived.periods.find({ scope: `${c}:D:2026-10` }).sort({ _id: 1 }).toArray()).toEqual(days);
    const rebuilt = new DeriveAll(c);
    for await (const e of new LedgerRepository(svc.deps).chain(c)) rebuilt.add(e);
    expect(await derived.periods.findOne({ _id: month!._id })).toEqual(rebuilt.periods.get(month!._id));
    expect(await heads.head(c)).toEqual({ seq: 40, hash: rebuilt.head.hash });
  });

  it('when one process appends batch after batch of a chain, then sealing the blocks reads nothing from the store after the first, and the documents equal a rebuild; a batch written meanwhile by another process is read, not guessed', async () => {
    const c = `c_frontier_${Date.now()}`;
    // the repositories on a client of their own, whose commands this test counts
    const client = await MongoClient.connect(svc.deps.config.mongo.url, { monitorCommands: true });
    const reads: string[] = [];
    client.on('commandStarted', (ev) => { if (ev.commandName === 'find') reads.push(String((ev.command as { find: string }).find)); });
    try {
      const own = { db: client.db(svc.deps.db.databaseName) } as Pick<Deps, 'db'>;
      const other = { db: (await MongoClient.connect(svc.deps.config.mongo.url)).db(svc.deps.db.databaseName) } as Pick<Deps, 'db'>;
      const base = Date.parse('2026-10-20T00:00:00.000Z');
      const entries = chainEntries(GENESIS, Array.from({ length: 1000 }, (_, i) => ({
        key: `ef${i}:allocation`, charityId: c, kind: 'allocation' as const, amountFen: 100 + i, salesFen: 500, quantity: 1, orderId: `of${i}`,
        streamId: 's1', productId: 'p1', hostId: 'h1', eventId: `ef${i}`, matchId: null, at: new Date(base + i * 60_000).toISOString(),
      })));
      /** What allocateBatch does with a run's entries: the store's reads alongside the insert, then the derived documents. */
      const appendRun = async (deps: Pick<Deps, 'db'>, run: LedgerEntry[]) => {
        const derived = new LedgerDerivedRepository(deps);
        const before = derived.before(c, run);
        await new LedgerRepository(deps).append(run.map((entry) => ({ entry, display: { charityName: 'C', productName: 'P', buyer: '张**' }, partition: 0, offset: entry.seq })));
        await derived.afterAppend(c, run, before);
      };
      // runs of 37, 45 … 70 entries: blocks of 64 end inside runs, at their ends, and a run spans a block without ending one
      const cuts = [0, 37, 82, 128, 192, 250, 320, 383, 500, 630, 700, 1000];
      const runs = cuts.slice(1).map((end, i) => entries.slice(cuts[i], end));
      await appendRun(own, runs[0]);
      reads.length = 0;
      for (const run of runs.slice(1, 8)) await appendRun(own, run);
      expect(reads).toEqual([]);
      // another process (its own frontier) writes a run: this one's frontier no longer follows the chain and its next run reads
      await appendRun(other, runs[8]);
      await appendRun(own, runs[9]);
      expect(reads.length).toBeGreaterThan(0);
      reads.length = 0;
      await appendRun(own, runs[10]);
      expect(reads).toEqual([]);

      const rebuilt = new DeriveAll(c);
      for await (const e of new LedgerRepository(svc.deps).chain(c)) rebuilt.add(e);
      expect(rebuilt.head.seq).toBe(1000);
      const derived = new LedgerDerivedRepository(svc.deps);
      const byId = <T extends { _id: string }>(xs: Iterable<T>) => [...xs].sort((a, b) => (a._id < b._id ? -1 : 1));
      expect(await derived.tree.find({ charityId: c }).sort({ _id: 1 }).toArray()).toEqual(byId(rebuilt.tree.values()));
      expect(await derived.periods.find({ charityId: c }).sort({ _id: 1 }).toArray()).toEqual(byId(rebuilt.periods.values()));
      await other.db.client.close();
    } finally {
      await client.close();
    }
  }, 120_000);

  describe('a large chain', () => {
    const size = Number(process.env.LIVEGIVE_TEST_CHAIN ?? 12_000);
    let w: World;
    const orders: Array<{ id: string; totalFen: number }> = [];
    let chain: LedgerEntry[];

    beforeAll(async () => {
      w = await seedWorld(svc.url);
      const viewer = await newViewer(svc.url);
      for (let i = 0; i < 2; i++) {
        const o = (await order(svc.url, viewer.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }).expect(201)).body;
        await pay(svc.url, { orderId: o.id, paymentId: `pay_${o.id}`, amountFen: o.totalFen, status: 'succeeded' }).expect(200);
        orders.push(o);
      }
      const base = Date.parse('2026-11-11T00:00:00.000Z');
      chain = chainEntries(GENESIS, Array.from({ length: size }, (_, i) => ({
        key: `e${i}:allocation`, charityId: w.charity.id, kind: 'allocation' as const, amountFen: 200, salesFen: 4990, quantity: 1,
        orderId: i === 0 ? orders[0].id : i === size - 1 ? orders[1].id : `filler${i}`, streamId: w.stream.id, productId: w.product.id, hostId: w.host.id,
        eventId: `e${i}`, matchId: null, at: new Date(base + i * 1000).toISOString(),
      })));
      for (let i = 0; i < size; i += 1500) await appendEntries(svc.deps, chain.slice(i, i + 1500));
    }, 300_000);

    it('when a buyer of the first and of the last block asks for a receipt, then each verifies with the public head alone', async () => {
      const head = (await request(svc.url).get(`/api/v1/public/charities/${w.charity.id}`).expect(200)).body as PublicHead & { totalFen: number; latest: Array<{ seq: number }> };
      expect(head).toMatchObject({ headSeq: size, headHash: chain[size - 1].hash, totalFen: 200 * size });
      expect(head.latest.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => size - i));
      for (const [o, seq] of [[orders[0], 1], [orders[1], size]] as const) {
        const r = (await request(svc.url).get(`/api/v1/public/receipts/${o.id}`).expect(200)).body as Receipt;
        expect(r).toMatchObject({ status: 'allocated', entrySeq: seq, entryHash: chain[seq - 1].hash });
        expect(r.proof!.path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(size)));
        expect(verifyReceipt(r, head)).toEqual({ ok: true, problems: [] });
      }
      // an earlier head, inside a sealed block, still has its own root and total
      const mid = Math.floor(size / 2) + 7;
      const old = (await request(svc.url).get(`/api/v1/public/charities/${w.charity.id}?seq=${mid}`).expect(200)).body;
      expect(old).toMatchObject({ headSeq: mid, headHash: chain[mid - 1].hash, totalFen: 200 * mid });
      const all = await checkChain(w.charity.id, (async function* () { yield* chain.slice(0, mid); })());
      expect(old.merkleRoot).toBe(all.merkleRoot);
    }, 120_000);

    it('when a charity pages its ledger across a block boundary, then it gets exactly the entries after the cursor', async () => {
      const page = (await request(svc.url).get(`/api/v1/charities/${w.charity.id}/ledger?after=1000&limit=100`).set({ Authorization: `Bearer ${w.charity.token}` }).expect(200)).body;
      expect(page.entries.map((e: { seq: number }) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 1001 + i));
      expect(page.next).toBe(1100);
      const last = (await request(svc.url).get(`/api/v1/charities/${w.charity.id}/ledger?after=${size - 3}&limit=100`).set({ Authorization: `Bearer ${w.charity.token}` }).expect(200)).body;
      expect(last).toMatchObject({ next: null });
      expect(last.entries.map((e: { hash: string }) => e.hash)).toEqual(chain.slice(size - 3).map((e) => e.hash));
    });
  });
});
