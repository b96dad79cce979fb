/**
 * The allocator's fetch settings, before/after in one process: `npx tsx scripts/measure/allocator-fetch.ts`.
 * Two consumer groups read the same fresh topic on the running Kafka (KAFKA_BROKERS), one with the former
 * settings (fetch at least 64 KB or wait) and one with the allocator's (`allocatorFetch`), both with the same
 * wait and the same stand-in for a batch's work (a sleep). Lone events (one every --gap ms), then a burst
 * (--rate events/s for --seconds): per group, each event's age when its batch starts (producer timestamp to
 * eachBatch) and the batches it took. The topic and groups are deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Command } from 'commander';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { allocatorFetch } from '../../src/allocator/allocator.consumer';
import { summarize } from '../bench/stats';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Group { label: string; minBytes: number; ages: number[]; batches: number; events: number; consumer?: Consumer }

async function main(): Promise<void> {
  const o = new Command().name('allocator-fetch')
    .option('--wait <ms>', 'maxWaitTimeInMs of both groups (the allocator default)', '100')
    .option('--work <ms>', "a batch's work, as a sleep (the allocator's store writes)", '20')
    .option('--lone <n>', 'lone events', '60')
    .option('--gap <ms>', 'ms between lone events', '250')
    .option('--rate <n>', 'burst events/s', '500')
    .option('--seconds <n>', 'burst seconds', '10')
    .parse().opts<{ wait: string; work: string; lone: string; gap: string; rate: string; seconds: string }>();
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const kafka = new Kafka({ clientId: 'livegive-measure-fetch', brokers, logLevel: logLevel.NOTHING });
  const ns = `lgmeasure_${randomBytes(3).toString('hex')}`;
  const topic = `${ns}.fetch.v1`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
  const groups: Group[] = [
    { label: 'former (minBytes 64 KB)', minBytes: 64 * 1024, ages: [], batches: 0, events: 0 },
    { label: `now (minBytes ${allocatorFetch.minBytes})`, minBytes: allocatorFetch.minBytes, ages: [], batches: 0, events: 0 },
  ];
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const load = [os.loadavg()[0]];
  try {
    for (const g of groups) {
      g.consumer = kafka.consumer({ groupId: `${ns}.${g.minBytes}`, maxWaitTimeInMs: Number(o.wait), minBytes: g.minBytes, maxBytesPerPartition: allocatorFetch.maxBytesPerPartition });
      await g.consumer.connect();
      await g.consumer.subscribe({ topic, fromBeginning: true });
      await g.consumer.run({
        partitionsConsumedConcurrently: 3,
        eachBatch: async ({ batch }) => {
          if (!batch.messages.length) return;
          const at = Date.now();
          for (const m of batch.messages) g.ages.push(at - Number(m.timestamp));
          g.batches++;
          g.events += batch.messages.length;
          await sleep(Number(o.work));
        },
      });
    }
    await sleep(5000); // both groups joined and fetching
    const value = Buffer.from('x'.repeat(900)); // about an order event's size
    const phase = async (name: string, send: () => Promise<number>) => {
      for (const g of groups) { g.ages = []; g.batches = 0; g.events = 0; }
      const sent = await send();
      for (let i = 0; i < 100 && groups.some((g) => g.events < sent); i++) await sleep(100);
      load.push(os.loadavg()[0]);
      console.log(`\n${name}: ${sent} events`);
      for (const g of groups) {
        const s = summarize(g.ages);
        console.log(`  ${g.label.padEnd(24)} age at batch start p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms; ${g.batches} batches, ${(g.events / Math.max(1, g.batches)).toFixed(1)} events per batch`);
      }
    };
    await phase(`lone events, one every ${o.gap} ms`, async () => {
      for (let i = 0; i < Number(o.lone); i++) {
        await producer.send({ topic, acks: -1, messages: [{ key: `c${i % 3}`, value }] });
        await sleep(Number(o.gap));
      }
      return Number(o.lone);
    });
    await phase(`a burst of ${o.rate}/s for ${o.seconds} s (sent in 10 ms slices)`, async () => {
      const per = Math.max(1, Math.round(Number(o.rate) / 100));
      let n = 0;
      const end = Date.now() + Number(o.seconds) * 1000;
      while (Date.now() < end) {
        const t = Date.now();
        await producer.send({ topic, acks: -1, messages: Array.from({ length: per }, (_, i) => ({ key: `c${(n + i) % 3}`, value })) });
        n += per;
        await sleep(Math.max(0, 10 - (Date.now() - t)));
      }
      return n;
    });
    console.log(`\nwait ${o.wait} ms, work per batch ${o.work} ms; load average (1 min) at start / after each phase: ${load.map((l) => l.toFixed(2)).join(' / ')}`);
  } finally {
    for (const g of groups) await g.consumer?.disconnect().catch(() => undefined);
    await producer.disconnect();
    await admin.deleteGroups(groups.map((g) => `${ns}.${g.minBytes}`)).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

void main().then(() => process.exit(0), (e) => { console.error('allocator-fetch: failed:', e); process.exit(1); });
