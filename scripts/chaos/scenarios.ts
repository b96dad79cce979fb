import { Kafka, logLevel } from 'kafkajs';
import { Cluster, ClusterOptions } from './cluster';
import { Sale, SaleStats } from './sale';
import { FeedWatcher, settleAndCheck, formatProblems } from './gather';
import { call, rng, sleep } from './http-client';
import type { Problem } from './invariants';
import { ADMIN_TOKEN, PAYMENT_SECRET } from '../../test/helpers/env';

export interface FaultContext { cluster: Cluster; sale: Sale; random: () => number; scale: number; note: (line: string) => void }

export interface ScenarioSpec {
  name: string;
  title: string;
  cluster: ClusterOptions;
  concurrency: number;
  /** injects the faults while the sale runs; the sale stops when it returns */
  fault(ctx: FaultContext): Promise<void>;
  /** runs after the first check holds (replay) and answers its own problems; a second check follows */
  after?(ctx: FaultContext): Promise<Problem[]>;
}

export interface ScenarioResult extends SaleStats {
  name: string; title: string; seed: number; ms: number; notes: string[]; inFlightAtFaults: number[]; problems: Problem[]; settleMs: number;
  ledgerEntries: number; orders: number;
}

/** Runs one scenario: a sale with faults injected, then the invariant check after everything settles. */
export async function runScenario(spec: ScenarioSpec, seed: number, scale = 1, log: (s: string) => void = () => undefined): Promise<ScenarioResult> {
  const started = Date.now();
  const random = rng(seed);
  const notes: string[] = [];
  const inFlightAtFaults: number[] = [];
  const cluster = await Cluster.start(spec.cluster);
  let feed: FeedWatcher | null = null;
  try {
    const sale = new Sale(cluster.urls, { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random });
    await sale.prepare({ charities: 2, products: 3, stock: Math.round(400 * scale), viewers: 30 });
    feed = new FeedWatcher(cluster.urls, sale.setup.streamId);
    feed.start();
    const note = (line: string) => { inFlightAtFaults.push(sale.inFlight); notes.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${line} (${sale.inFlight} requests in flight)`); log(`  ${line}`); };
    const ctx: FaultContext = { cluster, sale, random, scale, note };
    const running = sale.run(spec.concurrency);
    try {
      await spec.fault(ctx);
    } finally {
      sale.stop();
      await running;
    }
    await Promise.all(cluster.all.map((p) => p.start()));
    let check = await settleAndCheck(cluster.mongoUrl, () => cluster.urls()[0], sale, feed, 90_000);
    if (spec.after && check.problems.length === 0) {
      const own = await spec.after(ctx);
      check = await settleAndCheck(cluster.mongoUrl, () => cluster.urls()[0], sale, feed, 60_000);
      check.problems.push(...own);
    }
    return {
      name: spec.name, title: spec.title, seed, ms: Date.now() - started, notes, inFlightAtFaults, ...sale.stats, problems: check.problems,
      settleMs: check.waitedMs, ledgerEntries: check.facts?.ledger.length ?? 0, orders: check.facts?.orders.length ?? 0,
    };
  } finally {
    feed?.close();
    await cluster.stop();
  }
}

const between = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo));

/** 1. SIGKILL the API, the workers or both at seeded random moments, restarting each time. */
export const crashScenario = (kills: number): ScenarioSpec => ({
  name: 'crash', title: `crash anywhere: ${kills} SIGKILLs of api / workers / both`, cluster: { apis: 1, workers: 1 }, concurrency: 8,
  async fault({ cluster, random, note }) {
    for (let i = 0; i < kills; i++) {
      await sleep(between(random, 700, 2500));
      const pick = random();
      const targets = pick < 0.4 ? cluster.apis : pick < 0.8 ? cluster.workers : cluster.all;
      note(`kill ${i + 1}/${kills}: ${targets.map((t) => t.name).join(' + ')}`);
      await Promise.all(targets.map((t) => t.kill()));
      await sleep(between(random, 0, 1000));
      await Promise.all(targets.map((t) => t.start()));
    }
    await sleep(1500);
  },
});

/** 2. The broker stops during the sale and comes back. */
export const kafkaOutageScenario = (outageMs: number): ScenarioSpec => ({
  name: 'kafka-outage', title: `Kafka down for ${outageMs / 1000} s`, cluster: { apis: 1, workers: 1, privateKafka: true }, concurrency: 6,
  async fault({ cluster, note }) {
    await sleep(2500);
    note('kafka down');
    await cluster.kafka!.down();
    await sleep(outageMs);
    note('kafka up');
    await cluster.kafka!.up();
    await sleep(3000);
  },
});

/** 3. Redis restarts without its persistence file, then with it; orders pause until the state is rebuilt. */
export const redisRestartScenario = (): ScenarioSpec => ({
  name: 'redis-restart', title: 'Redis restarted without, then with, its append-only file', cluster: { apis: 1, workers: 1, privateRedis: true }, concurrency: 6,
  async fault({ cluster, note }) {
    for (const wipe of [true, false]) {
      await sleep(2500);
      note(`redis killed ${wipe ? 'and its files deleted' : '(append-only file kept)'}`);
      await cluster.redis!.down({ kill: true, wipe });
      await cluster.redis!.up();
      const t = Date.now();
      let sawRebuilding = false;
      while (Date.now() - t < 60_000) {
        const r = await call<{ rebuilding?: boolean }>(cluster.urls()[0], 'GET', '/readyz');
        sawRebuilding ||= r.body?.rebuilding === true;
        if (r.status === 200) break;
        await sleep(100);
      }
      note(`ready again after ${Date.now() - t} ms${sawRebuilding ? ' (was rebuilding)' : ''}`);
    }
    await sleep(2000);
  },
});

/** 4. The MongoDB-wire server stops; intake goes on, consumers retry and catch up. */
export const mongoOutageScenario = (outageMs: number): ScenarioSpec => ({
  name: 'mongo-outage', title: `MongoDB-wire server down for ${outageMs / 1000} s`, cluster: { apis: 1, workers: 1, privateMongo: true }, concurrency: 6,
  async fault({ cluster, sale, note }) {
    await sleep(2500);
    const before = sale.stats.accepted;
    note('mongo down');
    await cluster.mongo!.down();
    await sleep(outageMs);
    note(`mongo up (${sale.stats.accepted - before} orders accepted while it was down)`);
    await cluster.mongo!.up();
    await sleep(2000);
  },
});

/** 5. Both consumer groups reset to the earliest offset: nothing may change. */
export const replayScenario = (saleMs: number): ScenarioSpec => ({
  name: 'replay', title: 'projection and allocator replay the whole log', cluster: { apis: 1, workers: 1 }, concurrency: 8,
  async fault() { await sleep(saleMs); },
  async after({ cluster, note }) {
    const { MongoClient } = await import('mongodb');
    const client = new MongoClient(cluster.mongoUrl, { directConnection: true });
    await client.connect();
    const heads = async () => JSON.stringify(await client.db().collection('ledger').find({}, { projection: { _id: 1, hash: 1 } }).sort({ _id: 1 }).toArray());
    const before = await heads();
    await Promise.all(cluster.workers.map((w) => w.stop()));
    const cfg = cluster.config;
    const admin = new Kafka({ brokers: cfg.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(cfg.kafka.groupPrefix));
    for (const groupId of groups) await admin.resetOffsets({ groupId, topic: cfg.kafka.topics.orderEvents, earliest: true });
    // prove the reset took: every group's committed position is back at the start of each partition
    const low = await admin.fetchTopicOffsets(cfg.kafka.topics.orderEvents);
    const events = low.reduce((n, e) => n + Number(e.high) - Number(e.low), 0);
    for (const groupId of groups) {
      const [o] = await admin.fetchOffsets({ groupId, topics: [cfg.kafka.topics.orderEvents] });
      const ahead = o.partitions.filter((p) => Number(p.offset) > Number(low.find((e) => e.partition === p.partition)?.low ?? 0));
      if (ahead.length) return [{ check: 'replay', subject: groupId, message: `offsets not reset on ${ahead.length} partition(s)` }];
    }
    note(`reset ${groups.join(', ')} to the earliest offset (${events} events to consume again)`);
    await Promise.all(cluster.workers.map((w) => w.start()));
    // wait until every group has consumed the log again
    // (an empty partition has nothing to consume: its committed offset stays -1)
    const end = await admin.fetchTopicOffsets(cfg.kafka.topics.orderEvents);
    const started = Date.now();
    const unfinished: string[] = [];
    for (const groupId of groups) {
      let done = false;
      while (!done && Date.now() - started < 120_000) {
        const [o] = await admin.fetchOffsets({ groupId, topics: [cfg.kafka.topics.orderEvents] });
        done = end.every((e) => Number(e.high) <= Number(e.low) || Number(o.partitions.find((p) => p.partition === e.partition)?.offset ?? -1) >= Number(e.high));
        if (!done) await sleep(100);
      }
      if (!done) unfinished.push(groupId);
    }
    await admin.disconnect();
    const after = await heads();
    await client.close();
    if (unfinished.length) {
      note(`replay did not reach the end of the log: ${unfinished.join(', ')}`);
      return [{ check: 'replay', subject: unfinished.join(', '), message: 'the group did not consume the log again within 120 s' }];
    }
    note(`both groups consumed the log again in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    note(before === after ? 'ledger unchanged by the replay' : 'LEDGER CHANGED by the replay');
    return before === after ? [] : [{ check: 'replay', subject: 'ledger', message: 'entries or hashes changed when the log was replayed' }];
  },
});

/** 6. Two API instances and two worker processes; one of each killed mid-sale. */
export const scaleOutScenario = (): ScenarioSpec => ({
  name: 'two-of-each', title: 'two APIs and two workers, one of each SIGKILLed', cluster: { apis: 2, workers: 2 }, concurrency: 8,
  async fault({ cluster, note }) {
    await sleep(3000);
    note(`kill ${cluster.apis[0].name} + ${cluster.workers[0].name}`);
    await Promise.all([cluster.apis[0].kill(), cluster.workers[0].kill()]);
    await sleep(4000);
  },
});

/** The scenario's note: faults, orders in flight, what was refused, and the invariant result. */
export function formatResult(r: ScenarioResult): string {
  const fmt = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ×${v}`).join(', ') || 'none';
  return [
    `■ ${r.name} — ${r.title} (${(r.ms / 1000).toFixed(0)} s, seed ${r.seed})`,
    ...r.notes.map((n) => `    ${n}`),
    `    orders: ${r.attempts} attempted, ${r.accepted} accepted, ${r.paid} paid, ${r.refunded} refunded; at most ${r.maxInFlight} requests in flight`,
    `    refused (final answers): ${fmt(r.refused)}; payments refused: ${fmt(r.paymentRefused)}`,
    `    retried (transient answers): ${fmt(r.retried)}`,
    `    checked ${r.orders} orders and ${r.ledgerEntries} ledger entries after ${(r.settleMs / 1000).toFixed(1)} s of settling: ${formatProblems(r.problems)}`,
  ].join('\n');
}
