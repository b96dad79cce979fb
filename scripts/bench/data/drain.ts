import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Partitioners } from 'kafkajs';
import type { Deps } from '../../../src/deps';
import { rebuildTotals, startAllocator } from '../../../src/allocator';
import { allocate, type PositionedEvent } from '../../../src/allocator/allocate';
import { allocatorConcurrency } from '../../../src/allocator/allocator.consumer';
import { StatementsRepository } from '../../../src/statements/statements.repository';
import { APPEND_CHUNK, ledgerDoc, registerLedgerModel, type LedgerDoc } from '../../../src/allocator/ledger.repository';
import { displayOf } from '../../../src/allocator/totals.store';
import { paidEvent } from './seed';
import { cpuSeconds, loadAverage, timed } from './measure';
import { cpuMs, localServerPids } from '../../measure/proc-cpu';

export interface DrainReport {
  events: number; charities: number; entries: number; writers: number; batchSize: number;
  /** allocator processes in the consumer group (1: this process) */
  allocators: number;
  drainMs: number; drainPerSec: number; drainCpuS: number; drainStoreCpuS: number | null; drainLoad: string;
  /** CPU seconds of every redis-server and of Kafka on this machine during the drain (null when they run elsewhere) */
  drainRedisCpuS: number | null; drainKafkaCpuS: number | null;
  /** the bare insert, before the drain and after it (each into its own empty collection) */
  bare: { when: 'before' | 'after'; ms: number; perSec: number; cpuS: number; storeCpuS: number | null; load: string }[];
  barePerSec: number; ratio: number; ratioBefore: number; ratioAfter: number;
  /** the drain wrote exactly the planned entries (every charity's published head is its last planned entry) */
  sameEntries: boolean;
}

/** Waits until the group has committed every partition's high watermark. */
async function drained(deps: Deps, groupId: string, topic: string): Promise<void> {
  const admin = deps.kafka.admin();
  await admin.connect();
  try {
    const high = await admin.fetchTopicOffsets(topic);
    for (;;) {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      // a partition no charity hashed to is empty (high = low): nothing to wait for there
      const done = high.every((h) => h.high === h.low || Number(committed.partitions.find((p) => p.partition === h.partition)?.offset ?? -1) >= Number(h.high));
      if (done) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * CPU seconds of the store's processes (FerretDB and PostgreSQL), when they run on this machine; null elsewhere. A
 * process's own time plus its reaped children's, so that a PostgreSQL backend that exits meanwhile still counts (in
 * the postmaster's).
 */
function storeCpuSeconds(): number | null {
  return procCpuSeconds(localServerPids().store);
}
/** CPU seconds of Redis and of Kafka (this machine's), the drain's other servers; null elsewhere. */
const redisCpuSeconds = () => procCpuSeconds(localServerPids().redis);
const kafkaCpuSeconds = () => procCpuSeconds(localServerPids().kafka);

function procCpuSeconds(pids: number[]): number | null {
  if (!pids.length) return null;
  // a process gone meanwhile counts nothing
  return pids.reduce((sum, pid) => sum + (cpuMs(pid, true) || 0), 0) / 1000;
}
const cpuDiff = (a: number | null, b: number | null) => (a === null || b === null ? null : Number((b - a).toFixed(1)));

/** An allocator process (allocator-child.ts), connected and waiting for GO. */
async function spawnAllocator(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  // node itself, not the tsx wrapper: its pid is the allocator's, for /proc
  // BENCH_ALLOCATOR_NODE_ARGS: node flags for the allocator processes only (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`); by
  // default the workers deployment's NODE_OPTIONS (deploy/kubernetes/base/workers-deployment.yaml)
  const nodeArgs = (env.BENCH_ALLOCATOR_NODE_ARGS ?? '--max-semi-space-size=64').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(__dirname, 'allocator-child.ts')], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => { if (b.toString().includes('READY')) resolve(); });
    child.once('exit', (code) => reject(new Error(`allocator process exited with ${code}`)));
  });
  child.stdout!.resume();
  return child;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  return exited;
}

/** The ledger documents the allocator will write for these events: its own pure planning, from empty chains (no sponsors here). */
function plannedDocs(events: PositionedEvent[]): LedgerDoc[] {
  return allocate(events, new Map(), new Map()).flatMap((p) => p.entries.map((entry) => {
    const src = p.sources.get(entry.key)!;
    return { ...ledgerDoc(entry), ...displayOf(src.event), partition: src.partition, offset: src.offset };
  }));
}

/** A bare unordered insertMany of the documents, `writers` at once, APPEND_CHUNK a batch, into an empty `ledger` with the same indexes. */
async function bareInsert(deps: Deps, docs: LedgerDoc[], writers: number, when: 'before' | 'after') {
  const batchSize = APPEND_CHUNK;
  const conn = deps.mongo;
  registerLedgerModel(conn);
  await conn.models.LedgerEntry.createCollection().catch(() => undefined);
  await conn.models.LedgerEntry.createIndexes();
  const bare = deps.db.collection<LedgerDoc>('ledger');
  const queue = Array.from({ length: Math.ceil(docs.length / batchSize) }, (_, i) => docs.slice(i * batchSize, (i + 1) * batchSize));
  const cpu0 = cpuSeconds();
  const store0 = storeCpuSeconds();
  // copies: the driver adds nothing to them, but the same objects are never handed to two inserts
  const { ms } = await timed(() => Promise.all(Array.from({ length: writers }, async () => { for (let b = queue.shift(); b; b = queue.shift()) await bare.insertMany(b.map((d) => ({ ...d })), { ordered: false }); })));
  return { when, ms: Math.round(ms), perSec: Math.round(docs.length / (ms / 1000)), cpuS: Number((cpuSeconds() - cpu0).toFixed(1)), storeCpuS: cpuDiff(store0, storeCpuSeconds()), load: loadAverage() };
}

/**
 * The allocator's drain rate from a backlog of `events` payments already in Kafka (spread over `charities`
 * charities, so over the partitions), against a bare unordered insertMany of the very documents it writes,
 * into a fresh `ledger` collection with the same indexes, in the same store, once right before the drain
 * and once right after it (the load of a shared machine drifts; the ratio is to their mean). The documents
 * are planned up front by the allocator's own pure planning from the produced offsets; the drain's chain
 * heads are checked against them afterwards (same hashes: the same entries).
 */
export async function measureDrain(deps: Deps, bareDeps: [Deps, Deps], events: number, charities: number, log: (s: string) => void, opts: { allocators: number; env: NodeJS.ProcessEnv }): Promise<DrainReport> {
  const topic = deps.config.kafka.topics.orderEvents;
  const producer = deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // payments of the last minutes, 10 ms apart, as a backlog is after an outage: within the refund window, so the
  // confirmation sweep has nothing due meanwhile (a fixed date weeks back made every entry due at once, and the
  // drain also confirmed 200,000 donations, work that falls due days later in a real sale)
  const base = Date.now() - events * 10;
  // each charity's partition as the service's producer picks it (the default partitioner: murmur2 of the key), named on each message
  const partitions = Array.from({ length: deps.config.kafka.partitions }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionOf = (key: string) => partitioner({ topic, partitionMetadata: partitions, message: { key, value: null } });
  const positioned: PositionedEvent[] = [];
  for (let i = 0; i < events; i += 2000) {
    const evs = Array.from({ length: Math.min(2000, events - i) }, (_, j) => paidEvent(`d${(i + j) % charities}`, i + j, base + (i + j) * 10));
    const sent = await producer.send({ topic, acks: -1, messages: evs.map((e) => ({ key: e.charityId, value: JSON.stringify(e), partition: partitionOf(e.charityId) })) });
    // a send's messages are appended to each partition in their order: offsets follow from each partition's base offset
    const next = new Map(sent.map((r) => [r.partition, Number(r.baseOffset)]));
    for (const e of evs) {
      const p = partitionOf(e.charityId);
      positioned.push({ event: e, partition: p, offset: next.get(p)! });
      next.set(p, next.get(p)! + 1);
    }
  }
  await producer.disconnect();
  const docs = plannedDocs(positioned);
  // as many inserts at once as the allocator may have in flight: partitions at once × the inserts of a 1 MB batch
  // (~1,700 entries, APPEND_CHUNK each); the driver's pool (20 connections a process) caps both alike
  const writers = allocatorConcurrency(deps) * Math.ceil(1700 / APPEND_CHUNK);
  log(`drain: ${events} order.paid events in Kafka (${docs.length} entries planned); bare insert before the drain`);
  const before = await bareInsert(bareDeps[0], docs, writers, 'before');
  log(`drain: bare before: ${JSON.stringify(before)}; starting the allocator`);

  const groupId = `${deps.config.kafka.groupPrefix}.allocator.bench`;
  let drainMs: number, drainCpuS: number, drainStoreCpuS: number | null;
  const redis0 = redisCpuSeconds();
  const kafka0 = kafkaCpuSeconds();
  if (opts.allocators <= 1) {
    const cpu0 = cpuSeconds();
    const store0 = storeCpuSeconds();
    const started = Date.now();
    const alloc = await startAllocator(deps, { groupId });
    try {
      await drained(deps, groupId, topic);
      drainMs = Date.now() - started;
      drainCpuS = Number((cpuSeconds() - cpu0).toFixed(1));
      drainStoreCpuS = cpuDiff(store0, storeCpuSeconds());
    } finally {
      await alloc.stop(); // also on failure: no allocator left writing keys after the run removed them
    }
  } else {
    // the totals built once here, so that the processes do not all start by rebuilding them at once
    await rebuildTotals(deps);
    const children = await Promise.all(Array.from({ length: opts.allocators }, () => spawnAllocator({ ...opts.env, BENCH_GROUP: groupId })));
    try {
      const cpu0 = children.map((c) => cpuSeconds(c.pid!));
      const store0 = storeCpuSeconds();
      const started = Date.now();
      for (const c of children) c.stdin!.write('GO\n');
      await drained(deps, groupId, topic);
      drainMs = Date.now() - started;
      drainCpuS = Number(children.reduce((s, c, i) => s + cpuSeconds(c.pid!) - cpu0[i], 0).toFixed(1));
      drainStoreCpuS = cpuDiff(store0, storeCpuSeconds());
    } finally {
      await Promise.all(children.map(stopChild));
    }
  }
  const drainRedisCpuS = cpuDiff(redis0, redisCpuSeconds());
  const drainKafkaCpuS = cpuDiff(kafka0, kafkaCpuSeconds());
  const drainLoad = loadAverage();
  const drainPerSec = Math.round(docs.length / (drainMs / 1000));
  log(`drain: ${drainMs} ms, ${drainPerSec}/s; bare insert after the drain`);
  const after = await bareInsert(bareDeps[1], docs, writers, 'after');

  // the same entries: each charity's published head is the hash of its last planned entry (the chain links every entry before it)
  const lastOf = new Map(docs.map((d) => [d.charityId, d]));
  // the head as the service publishes it (the month balances' highest seq)
  const published = new StatementsRepository(deps);
  const heads = await Promise.all([...lastOf.keys()].map((c) => published.head(c).then((h) => ({ c, h }))));
  const sameEntries = heads.every(({ c, h }) => lastOf.get(c)!.hash === h.hash && lastOf.get(c)!.seq === h.seq);
  const barePerSec = Math.round((before.perSec + after.perSec) / 2);
  return {
    events, charities, entries: docs.length, writers, batchSize: APPEND_CHUNK, allocators: Math.max(1, opts.allocators),
    drainMs, drainPerSec, drainCpuS, drainStoreCpuS, drainRedisCpuS, drainKafkaCpuS, drainLoad, bare: [before, after], barePerSec,
    ratio: Number((drainPerSec / barePerSec).toFixed(2)), ratioBefore: Number((drainPerSec / before.perSec).toFixed(2)), ratioAfter: Number((drainPerSec / after.perSec).toFixed(2)),
    sameEntries,
  };
}
