import { Kafka, Producer, Consumer, logLevel, CompressionTypes, Message, LogEntry } from 'kafkajs';
import type { Config } from '../config';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

const clientIds = new WeakMap<Kafka, string>();

/** kafkajs client whose logs go through pino. */
export function createKafka(config: Config, logger: Logger, clientId = 'livegive', requestTimeout = 10000): Kafka {
  const log = logger.child({ component: 'kafkajs' });
  const kafka = new Kafka({
    clientId,
    brokers: config.kafka.brokers,
    connectionTimeout: 3000,
    requestTimeout,
    retry: { initialRetryTime: 100, retries: 5, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      if (level <= logLevel.ERROR) log.error(rest, message);
      else if (level === logLevel.WARN) log.warn(rest, message);
      else log.debug(rest, message);
    },
  });
  clientIds.set(kafka, clientId);
  return kafka;
}

/** Replication of the service's topics: as configured, else min(3, brokers); min ISR 2 once there are 3 copies. */
export function topicReplication(configured: number | undefined, brokers: number): { replicationFactor: number; minInsyncReplicas: number } {
  const replicationFactor = configured ?? Math.max(1, Math.min(3, brokers));
  // acks=all then means "on two brokers": one broker may be lost without losing an acknowledged event or refusing sends
  return { replicationFactor, minInsyncReplicas: replicationFactor >= 3 ? 2 : 1 };
}

/** Creates the service's topics with explicit partition counts and replication (broker-side auto-creation is off). */
export async function ensureTopics(kafka: Kafka, config: Config): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [
      { topic: config.kafka.topics.orderEvents, numPartitions: config.kafka.partitions },
      { topic: config.kafka.topics.deadLetter, numPartitions: 1 },
      // agreement events (issue 15), keyed by charity like the order events: an audit log the ledger side can consume
      { topic: config.kafka.topics.agreementEvents, numPartitions: config.kafka.partitions },
    ].filter((t) => !existing.has(t.topic));
    if (wanted.length) {
      const { brokers } = await admin.describeCluster();
      const r = topicReplication(config.kafka.replication, brokers.length);
      const configEntries = [
        { name: 'min.insync.replicas', value: String(r.minInsyncReplicas) },
        // a replica that fell behind never becomes leader: that would drop acknowledged events
        { name: 'unclean.leader.election.enable', value: 'false' },
      ];
      const topics = wanted.map((t) => ({ ...t, replicationFactor: r.replicationFactor, configEntries }));
      for (let attempt = 1; ; attempt++) {
        try {
          // a busy three-broker cluster can take longer than kafkajs's default 5 s to elect every replica's leader
          await admin.createTopics({ topics, waitForLeaders: true, timeout: 30_000 });
          break;
        } catch (err) {
          // created but not yet known to the broker asked: the next attempt finds them existing and waits for leaders
          if (attempt >= 3 || !(err as { retriable?: boolean }).retriable) throw err;
          await new Promise((res) => setTimeout(res, 1000));
        }
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Subscribes a consumer, retrying for up to `withinMs` while the cluster answers with a retriable error: a broker
 * that has just restarted (or not yet heard of a topic created a moment ago) answers a metadata request with "does
 * not host this topic-partition", and a worker starting then would otherwise exit. Seen on the three-broker profile.
 */
export async function subscribeWhenKnown(consumer: Consumer, topic: string, logger: { warn: (o: object, m: string) => void }, withinMs = 30_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      return;
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() > deadline) throw err;
      logger.warn({ err: (err as Error).message, topic, attempt }, 'kafka: subscribe refused for now; retrying');
      await new Promise((res) => setTimeout(res, Math.min(250 * attempt, 2000)));
    }
  }
}

interface Pending { topic: string; message: Message; resolve: () => void; reject: (e: unknown) => void; at: number }

/**
 * An acks=all producer that groups sends: messages queued while a send is in flight (or
 * within lingerMs) go out together in one sendBatch, so throughput does not collapse to one
 * round-trip per order. Each caller's promise settles when its own message is acknowledged.
 */
export class BatchingProducer {
  private queue: Pending[] = [];
  private inFlight = false;
  private timer: NodeJS.Timeout | null = null;
  private connected = false;

  constructor(private readonly producer: Producer, private readonly lingerMs: number, private readonly metrics?: Metrics, private readonly maxBatch = 2000) {}

  static create(kafka: Kafka, lingerMs: number, metrics?: Metrics): BatchingProducer {
    // Not kafkajs's idempotent mode (experimental there): when the broker went away mid-request its sequence
    // numbers fell out of step with the broker's ("out of order sequence number"), and sends acknowledged after
    // that were missing from the log (the Kafka-outage scenario: cancelled and paid events lost). A retry may
    // now write an event twice; every consumer already ignores a repeated event id / (order, version).
    const producer = kafka.producer({ idempotent: false, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 } });
    return new BatchingProducer(producer, lingerMs, metrics);
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  send(topic: string, message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ topic, message, resolve, reject, at: performance.now() });
      this.schedule();
    });
  }

  sendMany(topic: string, messages: Message[]): Promise<void> {
    return Promise.all(messages.map((m) => this.send(topic, m))).then(() => undefined);
  }

  private schedule(): void {
    if (this.inFlight || this.timer) return;
    if (this.queue.length >= this.maxBatch || this.lingerMs === 0) { void this.flush(); return; }
    this.timer = setTimeout(() => { this.timer = null; void this.flush(); }, this.lingerMs);
  }

  private async flush(): Promise<void> {
    if (this.inFlight || this.queue.length === 0) return;
    this.inFlight = true;
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      if (!this.connected) throw new Error('producer is not connected');
      const byTopic = new Map<string, Message[]>();
      for (const p of batch) {
        const list = byTopic.get(p.topic) ?? [];
        list.push(p.message);
        byTopic.set(p.topic, list);
      }
      const sent = performance.now();
      await this.producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      const acked = performance.now();
      this.metrics?.produceSeconds.observe((acked - sent) / 1000);
      if (this.metrics) for (const p of batch) this.metrics.produceWaitSeconds.observe((acked - p.at) / 1000);
      this.metrics?.produceBatchSize.observe(batch.length);
      for (const [topic, msgs] of byTopic) this.metrics?.eventsProduced.inc({ topic }, msgs.length);
      for (const p of batch) p.resolve();
    } catch (err) {
      this.metrics?.produceFailures.inc();
      for (const p of batch) p.reject(err);
    } finally {
      this.inFlight = false;
      if (this.queue.length) this.schedule();
    }
  }

  /** Waits for queued messages, then disconnects. */
  async close(): Promise<void> {
    for (let i = 0; i < 200 && (this.queue.length || this.inFlight); i++) await new Promise((r) => setTimeout(r, 10));
    this.connected = false;
    await this.producer.disconnect();
  }
}

/**
 * Request timeout of the consumer groups' client: longer than any group's session timeout (the allocator's is 30 s).
 * kafkajs gives JoinGroup a timeout past the rebalance, but SyncGroup only the client's request timeout, and a
 * follower's SyncGroup waits for the leader's; when the leader is a member that died (a workers process killed
 * right after it joined), the broker answers only once that member's session expires. With 10 s against a 15 s
 * session the follower gave up, rejoined as a new member, left its old one behind as the next dead leader, and the
 * group never settled: the order projection stopped for good after two quick kills of the workers (chaos, seed 1).
 */
export const CONSUMER_REQUEST_TIMEOUT_MS = 45_000;
const consumerClients = new WeakMap<Kafka, Kafka>();

/** The client that consumer groups are made from (the same brokers, CONSUMER_REQUEST_TIMEOUT_MS); one per service client. */
export function consumerKafka(deps: { kafka: Kafka; config: Config; logger: Logger }): Kafka {
  let k = consumerClients.get(deps.kafka);
  if (!k) consumerClients.set(deps.kafka, (k = createKafka(deps.config, deps.logger, `${clientIds.get(deps.kafka) ?? 'livegive'}-groups`, CONSUMER_REQUEST_TIMEOUT_MS)));
  return k;
}
