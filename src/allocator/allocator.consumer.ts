import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Deps } from '../deps';
import type { Stoppable } from '../app';
import { allocateBatch, type BatchInput } from './allocate-batch';
import { LedgerRepository } from './ledger.repository';
import { rebuildStaleTotals, rebuildTotals } from './rebuild-totals';
import { ChainConflict, confirmDue, TotalsBusy, TotalsMissing } from './totals.store';
import { consumerKafka, subscribeWhenKnown } from '../infra/kafka';
import { TurnGather } from './batch-gather';

/**
 * Partitions one allocator process works on at once (each partition's batches in order): every partition it may
 * own. kafkajs fetches again only once all batches of the last fetch are allocated, so with fewer workers than
 * partitions holding a backlog the fetch's last batches ran as a second wave at part concurrency while the next
 * fetch waited (9 partitions with a backlog, 6 workers: two waves per fetch, the second with three batches).
 * At most 16 (a fetch holds up to 1 MB a partition in memory): a topic with more partitions takes more processes.
 */
export const allocatorConcurrency = (deps: Pick<Deps, 'config'>): number => Math.min(deps.config.kafka.partitions, 16);

/** The allocator group's session timeout (the consumer client's request timeout must exceed it: infra/kafka.ts). */
export const ALLOCATOR_SESSION_TIMEOUT_MS = 30_000;

export interface AllocatorOptions {
  /** consumer group (tests replay the topic into a fresh group) */
  groupId?: string;
  /** partitions allocated at once by this process */
  concurrency?: number;
}

/**
 * How the allocator fetches. A fetch answers as soon as one event is there (minBytes 1): a lone payment is not
 * held for the wait (LIVEGIVE_ALLOCATOR_BATCH_WAIT_MS), which now only bounds an idle long poll. Bursts still
 * batch: kafkajs fetches again only once the previous fetch's batches are allocated, and whatever arrived
 * meanwhile comes back in one batch (the slower the store, the larger). `scripts/measure/allocator-fetch.ts`
 * compares it with the former 64 KB minimum.
 */
export const allocatorFetch = { minBytes: 1, maxBytesPerPartition: 1 << 20 } as const;

/**
 * After a batch of fewer events than this, the allocator waits LIVEGIVE_ALLOCATOR_LINGER_MS (25 ms) before it
 * fetches again, so the payments arriving meanwhile come back as one batch. Every batch costs the same few round
 * trips (heads, ledger insert, period balances, totals script, offset commit) and one notification that every
 * screen's feed reads, whatever it holds: at 150 orders/s, answered batch after batch, they held one to three
 * payments and that fixed cost was most of the workers', the store's and Kafka's CPU. The wait is after a batch,
 * never before one: a lone payment after a quiet spell is still fetched at once, an idle allocator long-polls as
 * before, and a backlog (batches of hundreds) is drained without waiting.
 */
export const LINGER_BELOW_EVENTS = 200;
/*
 * And after such a batch it waits at least until LIVEGIVE_ALLOCATOR_CADENCE_MS (the feed's interval, 100 ms) after
 * that batch began, so small batches start at most once a feed interval. Every batch ends in a notification and
 * every notification wants a frame, and a stream sends one frame per interval: with batches every ~65 ms (25 ms of
 * linger after ~40 ms of work; 15 a second at 150 orders/s) a third of them found no free frame slot and waited
 * 50–100 ms for one, the stage from notification to frame was p50 75 ms. At the cadence each batch meets a free
 * slot (p50 20 ms) and the batches are a third fewer, so the workers, the store and Kafka do less (README, "One batch,
 * one frame").
 */

/**
 * The allocator: a consumer group on the order events. Each batch is allocated (entries durable, then
 * totals), and only then is its offset committed. Failures are retried with backoff for as long as
 * this process owns the partition, never skipped; lost totals or a moved chain head trigger a rebuild
 * from the ledger first.
 */
export async function startAllocator(deps: Deps, opts: AllocatorOptions = {}): Promise<Stoppable & { consumer: Consumer }> {
  const groupId = opts.groupId ?? `${deps.config.kafka.groupPrefix}.allocator`;
  const log = deps.logger.child({ component: 'allocator', groupId });
  await rebuildStaleTotals(deps);
  const repo = new LedgerRepository(deps);
  const lingerMs = deps.config.kafka.allocatorLingerMs;
  const cadenceMs = deps.config.kafka.allocatorCadenceMs;

  type Owner = Pick<EachBatchPayload, 'isRunning' | 'isStale' | 'heartbeat'>;
  /**
   * Allocates batches (one partition's, or a fetch's small ones together) until they go through; for each, false
   * when its partition was taken away meanwhile (its new owner redoes it, and a retry goes on without it).
   */
  async function allocateWithRetry(members: { input: BatchInput; p: Owner }[]): Promise<boolean[]> {
    for (let attempt = 0; ; attempt++) {
      const live = members.filter(({ p }) => p.isRunning() && !p.isStale());
      if (!live.length) return members.map(() => false);
      const partition = live.length === 1 ? live[0].input.partition : live.map((m) => m.input.partition);
      try {
        const r = await allocateBatch(deps, live.map((m) => m.input), repo);
        if (attempt > 0) log.info({ partition, attempt, entries: r.entries }, 'allocator: batch went through after retrying');
        return members.map((m) => live.includes(m));
      } catch (err) {
        const e = err as Error;
        if (err instanceof TotalsMissing || err instanceof ChainConflict) {
          log.warn({ err: e.message, partition }, 'allocator: rebuilding totals and chain heads from the ledger');
          await rebuildTotals(deps, err.charityIds).catch((re: Error) => log.error({ err: re.message }, 'allocator: rebuild failed'));
        } else if (!(err instanceof TotalsBusy)) {
          // transient (MongoDB, Redis or Kafka away): retry with backoff, never skip
          log.warn({ err: e.message, partition, attempt }, 'allocator: batch failed; retrying');
        }
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 5000)));
        await Promise.all(live.map(({ p }) => p.heartbeat().catch(() => undefined)));
      }
    }
  }

  // a fetch's small batches (live rates: a few events in each partition holding some) allocated together; a batch of a
  // backlog runs alone, as many at once as there are partitions holding one
  const gather = new TurnGather(allocateWithRetry);

  const consumer = consumerKafka(deps).consumer({
    groupId, sessionTimeout: ALLOCATOR_SESSION_TIMEOUT_MS, heartbeatInterval: 1000, rebalanceTimeout: 30000, allowAutoTopicCreation: false,
    ...allocatorFetch, maxWaitTimeInMs: deps.config.kafka.batchWaitMs.allocator,
  });
  await consumer.connect();
  await subscribeWhenKnown(consumer, deps.config.kafka.topics.orderEvents, deps.logger);
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: opts.concurrency ?? allocatorConcurrency(deps),
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
      if (batch.messages.length === 0) return;
      const fetchedAt = Date.now();
      for (const m of batch.messages) deps.metrics.allocatorEventAgeSeconds.observe(Math.max(0, fetchedAt - Number(m.timestamp)) / 1000);
      const last = batch.messages[batch.messages.length - 1].offset;
      const input = { groupId, topic: batch.topic, partition: batch.partition, messages: batch.messages };
      const timer = deps.metrics.allocatorBatchSeconds.startTimer();
      const member = { input, p: { isRunning, isStale, heartbeat } };
      const small = batch.messages.length < LINGER_BELOW_EVENTS;
      if (!(small ? await gather.submit(member) : (await allocateWithRetry([member]))[0])) return;
      resolveOffset(last);
      try {
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(Number(last) + 1) }]);
      } catch (err) {
        // a rebalance took the partition: its next owner finds these events already folded in
        log.info({ err: (err as Error).message, partition: batch.partition }, 'allocator: offset commit refused');
        return;
      }
      deps.metrics.eventsConsumed.inc({ group: 'allocator' }, batch.messages.length);
      timer(); deps.metrics.allocatorBatchSize.observe(batch.messages.length);
      deps.metrics.consumerLag.set({ group: 'allocator', partition: String(batch.partition) }, Math.max(0, Number(batch.highWatermark) - Number(last) - 1));
      await heartbeat();
      const wait = Math.max(lingerMs, cadenceMs - (Date.now() - fetchedAt));
      if (small && wait > 0 && isRunning()) await new Promise((r) => setTimeout(r, wait));
    },
  });
  // donations pass into the confirmed layer once their refund window has passed
  const sweep = setInterval(() => void confirmDue(deps).catch((err: Error) => log.warn({ err: err.message }, 'allocator: confirmation sweep failed')), deps.config.orders.sweepIntervalMs);
  sweep.unref();
  return {
    consumer,
    stop: async () => {
      clearInterval(sweep);
      await consumer.disconnect();
    },
  };
}
