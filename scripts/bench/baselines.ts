import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { placeOrderLua } from '../../src/orders';
import { unlinkMatching } from '../../src/infra/redis';
import { shardKeys } from '../../src/infra/shards';
import { BenchClient, now } from './http';
import { runOpenLoop, scheduleFor } from './schedule';
import { summarize, Summary } from './stats';

export interface HttpStep { offered: number; achieved: number; requests: number; errors: number; latency: Summary }

/** Open-loop load on one route, with the same client and schedule as the scenario; answers per-rate figures. */
export async function httpOpenLoop(client: BenchClient, path: string, body: unknown, offered: number, durationS: number): Promise<HttpStep> {
  const lat: number[] = [];
  let ok = 0;
  let errors = 0;
  let last = 0;
  const start = now();
  const pending: Promise<void>[] = [];
  await runOpenLoop(scheduleFor(start, offered, durationS), (_i, at) => {
    pending.push(client.request('POST', path, { body }).then((r) => {
      lat.push(r.endMs - at);
      last = Math.max(last, r.endMs);
      if (r.status === 200) ok++; else errors++;
    }));
  });
  await Promise.all(pending);
  return { offered, achieved: ok / (Math.max(durationS * 1000, last - start) / 1000), requests: lat.length, errors, latency: summarize(lat) };
}

/**
 * The Redis reservation script alone (the orders slice's place-order Lua, the same keys an order
 * touches): closed loop with `concurrency` calls in flight for durationS, answers ops/s.
 */
export async function redisReservationOps(redisUrl: string, prefix: string, durationS: number, concurrency = 64): Promise<{ opsPerSec: number; ops: number; latency: Summary; errors: number }> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 }) as Redis & { lgPlaceOrder(...args: (string | number)[]): Promise<string[]> };
  redis.defineCommand('lgPlaceOrder', { numberOfKeys: 11, lua: placeOrderLua });
  const P = `${prefix}rb:`;
  const k = shardKeys(P, 0);
  try {
    await redis.hset(k.stream('s1'), 'status', 'live');
    await redis.sadd(k.pins('s1'), 'p1');
    await redis.hset(k.product('p1'), { priceFen: '2990', perUnitFen: '300', charityId: 'c1', charityName: 'bench', name: 'bench', hostId: 'h1', limit: '1000000000' });
    await redis.set(k.stock('p1'), '1000000000');
    // the script refuses to run on a Redis whose state is not verified (the recovery sentinel)
    await redis.set(k.sentinel, JSON.stringify({ runId: 'bench', at: new Date().toISOString() }));
    const lat: number[] = [];
    let ops = 0;
    let errors = 0;
    let n = 0;
    const end = now() + durationS * 1000;
    const worker = async () => {
      while (now() < end) {
        const id = `o${++n}`;
        const t0 = now();
        const iso = new Date().toISOString();
        try {
          const v = `v${n % 500}`;
          // the product's step of an order (the viewer's step is a smaller script in another slot)
          const r = await redis.lgPlaceOrder(k.sentinel, k.stream('s1'), k.pins('s1'), k.product('p1'), k.bought('p1', v), k.stock('p1'), k.order(id), k.expiring, k.outbox, k.held, k.agreement(''),
            v, 's1', 'p1', 1, 'h', id, Date.now(), 900_000, `e${n}`, iso, iso, `k${n}-${randomBytes(4).toString('hex')}`, 'bench', '');
          if (r[0] === 'OK') ops++; else errors++;
        } catch { errors++; }
        lat.push(now() - t0);
      }
    };
    const t = now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { opsPerSec: ops / ((now() - t) / 1000), ops, latency: summarize(lat), errors };
  } finally {
    await deleteKeys(redis, `${P}*`);
    redis.disconnect();
  }
}

/** UNLINKs every key matching a pattern (SCAN, bounded batches). */
export const deleteKeys = (redis: Redis, pattern: string): Promise<number> => unlinkMatching(redis, pattern);

/**
 * kafkajs with no work: produce `count` order-sized events (idempotent, acks=all, batches as the
 * service sends them) to a fresh topic with the service's partition count, then consume them all in a
 * consumer group that only commits. Answers events/s for each side.
 */
export async function kafkaBaseline(brokers: string[], topic: string, partitions: number, count: number, sampleValue: string): Promise<{ count: number; producePerSec: number; consumePerSec: number }> {
  const kafka = new Kafka({ clientId: 'livegive-bench-baseline', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const keys = ['c1', 'c2', 'c3'];
  let t = now();
  for (let sent = 0; sent < count;) {
    const n = Math.min(2000, count - sent);
    await producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages: Array.from({ length: n }, (_, i) => ({ key: keys[(sent + i) % 3], value: sampleValue })) }] });
    sent += n;
  }
  const producePerSec = count / ((now() - t) / 1000);
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `${topic}.group`, maxBytes: 10 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let got = 0;
  let first = 0;
  let last = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: true,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        if (!first) first = now();
        got += batch.messages.length;
        resolveOffset(batch.lastOffset());
        await heartbeat();
        last = now();
        if (got >= count) resolve();
      },
    });
  });
  t = now();
  await Promise.race([done, new Promise((r) => setTimeout(r, 120_000))]);
  await consumer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  await admin.deleteGroups([`${topic}.group`]).catch(() => undefined);
  await admin.disconnect();
  // timed from the first batch, so the group join is not counted against kafkajs
  return { count: got, producePerSec, consumePerSec: got / (((last || now()) - (first || t)) / 1000) };
}
