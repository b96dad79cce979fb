import type { Deps } from '../../../src/deps';
import { startAllocator } from '../../../src/allocator';
import { ALLOCATOR_CONCURRENCY } from '../../../src/allocator/allocator.consumer';
import { registerLedgerModel } from '../../../src/allocator/ledger.repository';
import { paidEvent } from './seed';
import { cpuSeconds, timed } from './measure';

export interface DrainReport {
  events: number; charities: number; entries: number;
  drainMs: number; drainPerSec: number; drainCpuS: number;
  bareMs: number; barePerSec: number; bareCpuS: number; ratio: number; batchSize: number;
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
 * The allocator's drain rate from a backlog of `events` payments already in Kafka (spread over
 * `charities` charities, so over the partitions), against a bare unordered insertMany of the very
 * documents it wrote, into a fresh `ledger` collection with the same indexes, in the same store.
 */
export async function measureDrain(deps: Deps, bareDeps: Deps, events: number, charities: number, log: (s: string) => void): Promise<DrainReport> {
  const topic = deps.config.kafka.topics.orderEvents;
  const producer = deps.kafka.producer();
  await producer.connect();
  const base = Date.parse('2026-11-11T12:00:00.000Z');
  for (let i = 0; i < events; i += 2000) {
    const msgs = Array.from({ length: Math.min(2000, events - i) }, (_, j) => {
      const e = paidEvent(`d${(i + j) % charities}`, i + j, base + (i + j) * 10);
      return { key: e.charityId, value: JSON.stringify(e) };
    });
    await producer.send({ topic, acks: -1, messages: msgs });
  }
  await producer.disconnect();
  log(`drain: ${events} order.paid events in Kafka; starting the allocator`);
  const groupId = `${deps.config.kafka.groupPrefix}.allocator.bench`;
  const cpu0 = cpuSeconds();
  const started = Date.now();
  const alloc = await startAllocator(deps, { groupId });
  let drainMs: number, drainCpuS: number;
  try {
    await drained(deps, groupId, topic);
    drainMs = Date.now() - started;
    drainCpuS = cpuSeconds() - cpu0;
  } finally {
    await alloc.stop(); // also on failure: no allocator left writing keys after the run removed them
  }

  const docs = await deps.db.collection('ledger').find({}).toArray(); // bench only: the allocator's output, to insert again
  const batchSize = 1000;
  const conn = bareDeps.mongo;
  registerLedgerModel(conn);
  await conn.models.LedgerEntry.createCollection().catch(() => undefined);
  await conn.models.LedgerEntry.createIndexes();
  const bare = bareDeps.db.collection('ledger');
  const cpu1 = cpuSeconds();
  // as many writers as the allocator takes partitions at once
  const queue = Array.from({ length: Math.ceil(docs.length / batchSize) }, (_, i) => docs.slice(i * batchSize, (i + 1) * batchSize));
  const { ms: bareMs } = await timed(() => Promise.all(Array.from({ length: ALLOCATOR_CONCURRENCY }, async () => { for (let b = queue.shift(); b; b = queue.shift()) await bare.insertMany(b, { ordered: false }); })));
  const bareCpuS = cpuSeconds() - cpu1;
  const r = {
    events, charities, entries: docs.length, drainMs, drainPerSec: Math.round(docs.length / (drainMs / 1000)), drainCpuS,
    bareMs: Math.round(bareMs), barePerSec: Math.round(docs.length / (bareMs / 1000)), bareCpuS, ratio: 0, batchSize,
  };
  r.ratio = Number((r.drainPerSec / r.barePerSec).toFixed(2));
  return r;
}
