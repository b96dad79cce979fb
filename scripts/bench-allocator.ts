// Allocator throughput: drains a backlog of paid-order events into the ledger and totals, next to a
// bare kafkajs consumer reading the same topic and doing nothing, in the same run.
// Usage: npx tsx scripts/bench-allocator.ts [events=100000] [charities=12]
// Needs the stack up (scripts/stack up); works in a namespace of its own and removes it afterwards.
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config';
import { closeDeps, createDeps } from '../src/deps';
import { createLogger } from '../src/infra/logger';
import { registerLedgerModel } from '../src/allocator/ledger.repository';
import { charityKeyspace, startAllocator } from '../src/allocator';
import { orderEvent } from '../test/helpers/order-events';

const total = Number(process.argv[2] ?? 100_000);
const charities = Number(process.argv[3] ?? 12);

async function main(): Promise<void> {
  const ns = `bench_${randomBytes(4).toString('hex')}`;
  const config = loadConfig({ ...process.env, LIVEGIVE_NAMESPACE: ns, LIVEGIVE_ADMIN_TOKEN: 'bench-admin-token-0123456789', LIVEGIVE_PAYMENT_SECRET: 'bench-payment-secret-0123456789', LIVEGIVE_LOG_LEVEL: 'warn' });
  const deps = await createDeps(config, { logger: createLogger('warn'), clientId: 'bench-allocator', registerModels: registerLedgerModel });
  const topic = config.kafka.topics.orderEvents;
  const admin = deps.kafka.admin();
  await admin.connect();
  try {
    let t = Date.now();
    const producer = deps.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < total; i += 5000) {
      const messages = [];
      for (let j = i; j < Math.min(total, i + 5000); j++) {
        const e = orderEvent('order.paid', { orderId: `o${j}`, charityId: `c${j % charities}`, streamId: `s${j % 4}`, productId: `p${j % 20}`, quantity: 1 + (j % 3), pledgePerUnitFen: 100 + (j % 500) });
        messages.push({ key: e.charityId, value: JSON.stringify(e) });
      }
      await producer.send({ topic, acks: -1, messages });
    }
    await producer.disconnect();
    console.log(`produced ${total} paid-order events over ${charities} charities and ${config.kafka.partitions} partitions in ${Date.now() - t} ms`);

    // baseline: kafkajs alone, a fresh group that only resolves offsets
    t = Date.now();
    let seen = 0;
    const bare = deps.kafka.consumer({ groupId: `${ns}.bare`, maxBytesPerPartition: 1 << 20 });
    await bare.connect();
    await bare.subscribe({ topic, fromBeginning: true });
    const joined = new Promise<void>((r) => bare.on(bare.events.GROUP_JOIN, () => r()));
    let done!: () => void;
    const drained = new Promise<void>((r) => { done = r; });
    await bare.run({ partitionsConsumedConcurrently: 3, eachBatch: async ({ batch }) => { seen += batch.messages.length; if (seen >= total) done(); } });
    await joined;
    const bareStart = Date.now();
    await drained;
    const bareMs = Date.now() - bareStart;
    await bare.disconnect();
    console.log(`kafkajs alone: ${total} messages in ${bareMs} ms = ${Math.round(total / (bareMs / 1000))} messages/s (join took ${bareStart - t} ms)`);

    t = Date.now();
    const allocator = await startAllocator(deps, { groupId: `${ns}.allocator` });
    const entries = async () => (await Promise.all(Array.from({ length: charities }, (_, c) => deps.redis.hget(charityKeyspace(deps, `c${c}`)('tot:c', `c${c}`), 'entries')))).reduce((n, v) => n + Number(v ?? 0), 0);
    let first = 0;
    while ((await entries()) < total) {
      if (!first && (await entries()) > 0) first = Date.now();
      await new Promise((r) => setTimeout(r, 50));
    }
    const allocMs = Date.now() - (first || t);
    await allocator.stop();
    console.log(`allocator: ${total} ledger entries (durable in MongoDB, totals in Redis, offsets committed per batch) in ${allocMs} ms from the first entry = ${Math.round(total / (allocMs / 1000))} entries/s (start-up ${(first || t) - t} ms)`);
  } finally {
    await admin.deleteTopics({ topics: [topic, config.kafka.topics.deadLetter] }).catch(() => undefined);
    await admin.disconnect();
    await deps.mongo.dropDatabase().catch(() => undefined);
    const keys = await deps.redis.keys(deps.key('*'));
    for (let i = 0; i < keys.length; i += 1000) await deps.redis.unlink(...keys.slice(i, i + 1000));
    await closeDeps(deps);
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
