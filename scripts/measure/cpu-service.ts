import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { BenchClient, now } from '../bench/http';
import { MongoClient } from 'mongodb';
import { Child, dropNamespace, freePort, spawnTs, stopChild, waitHttpOk } from '../bench/service';
import { seedScenario } from '../bench/seed';
import { Broadcast } from '../bench/scenario';
import { ProbeBook, Viewers } from '../bench/viewers';
import { LagMonitor } from '../bench/kafka-lag';
import { bucketPercentileMs, histogramBuckets } from '../bench/server-latency';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Stores { kafka: string; redis: string; mongo: string }

/** Payment → screen by stage, p50 / p99 in ms (histogram bucket bounds; null where the checkout has no such histogram). */
export type Stages = Record<'payment' | 'eventAge' | 'allocatorBatch' | 'notifyToFrame', { p50: number | null; p99: number | null }>;
const STAGES: [keyof Stages, 'api' | 'workers', string, Record<string, string>][] = [
  ['payment', 'api', 'livegive_http_request_duration_seconds', { method: 'POST', route: '/api/v1/payments/notify' }],
  ['eventAge', 'workers', 'livegive_allocator_event_age_seconds', {}],
  ['allocatorBatch', 'workers', 'livegive_allocator_batch_seconds', {}],
  ['notifyToFrame', 'api', 'livegive_feed_notify_to_send_seconds', {}],
];

/**
 * One livegive deployment for the CPU measurement: api and workers processes (from `cwd`, so another checkout
 * can be measured beside this one) in their own namespace, a seeded live stream, its viewers and its buyers.
 */
export class MeasuredService {
  api!: Child;
  workers!: Child;
  lag!: LagMonitor;
  viewers!: Viewers;
  broadcast!: Broadcast;
  probes = new ProbeBook();
  private clients: BenchClient[] = [];
  private ports = { api: 0, workers: 0 };
  private config: ReturnType<typeof loadConfig> | null = null;

  constructor(readonly label: string, readonly cwd: string) {}

  async start(stores: Stores, viewers: number, logDir: string, profileDir?: string): Promise<void> {
    const port = await freePort();
    this.ports = { api: port, workers: await freePort() };
    const env: NodeJS.ProcessEnv = {
      ...process.env, KAFKA_BROKERS: stores.kafka, REDIS_URL: stores.redis, MONGO_URL: stores.mongo, LIVEGIVE_OPS_PORT: String(this.ports.workers),
      LIVEGIVE_NAMESPACE: `cpu_${randomBytes(3).toString('hex')}`, LIVEGIVE_RATE_LIMITS: 'off', PORT: String(port), HOST: '127.0.0.1', LIVEGIVE_LOG_LEVEL: 'warn',
      LIVEGIVE_ADMIN_TOKEN: `cpu-admin-${randomBytes(16).toString('hex')}`, LIVEGIVE_PAYMENT_SECRET: `cpu-pay-${randomBytes(16).toString('hex')}`, LIVEGIVE_WS_MAX_PER_IP: String(viewers + 100),
    };
    const config = loadConfig(env);
    this.config = config;
    const pdir = profileDir ? path.join(profileDir, this.label) : undefined;
    this.api = spawnTs(`${this.label}-api`, 'src/main.ts', ['--role', 'api'], env, { logDir, profileDir: pdir, port, cwd: this.cwd });
    this.workers = spawnTs(`${this.label}-workers`, 'src/main.ts', ['--role', 'workers'], env, { logDir, profileDir: pdir, cwd: this.cwd });
    await waitHttpOk(this.api, '/readyz');
    this.lag = new LagMonitor(config.kafka.brokers, config.kafka.topics.orderEvents, config.kafka.groupPrefix);
    await this.lag.connect();
    for (let i = 0; i < 240 && (await this.lag.groups().catch(() => [])).length < 2; i++) await sleep(250);
    const setup = new BenchClient(port, 16);
    this.clients.push(setup);
    const seed = await seedScenario(setup, env.LIVEGIVE_ADMIN_TOKEN!, randomBytes(4).toString('hex'), { buyers: 400, stock: 50_000_000, matchCapFen: 2_000_000 });
    this.viewers = new Viewers(port, seed.streamId, seed.products.find((p) => p.role === 'probe')!.id, this.probes);
    await this.viewers.connect(viewers);
    const clients = { orders: new BenchClient(port, 512), payments: new BenchClient(port, 256), probes: new BenchClient(port, 2) };
    this.clients.push(...Object.values(clients));
    // placed, paid and allocated: no refunds in the fixed workload
    this.broadcast = new Broadcast(seed, clients, { payment: env.LIVEGIVE_PAYMENT_SECRET!, admin: env.LIVEGIVE_ADMIN_TOKEN! }, this.probes, { payDelayMs: 100, refundShare: 0, refundDelayMs: 1000, probeEveryMs: 200, maxInFlight: 20_000 }, this.label);
  }

  get pids(): { api: number; workers: number } { return { api: this.api.proc.pid!, workers: this.workers.proc.pid! }; }

  /** Both processes' /metrics texts ('' for one that does not answer). */
  async scrape(): Promise<{ api: string; workers: string }> {
    const one = async (p: number) => { try { const r = await fetch(`http://127.0.0.1:${p}/metrics`, { signal: AbortSignal.timeout(5000) }); return r.ok ? await r.text() : ''; } catch { return ''; } };
    return { api: await one(this.ports.api), workers: await one(this.ports.workers) };
  }

  /** The stages between two scrapes. */
  static stages(before: { api: string; workers: string }, after: { api: string; workers: string }): Stages {
    const out = {} as Stages;
    for (const [name, proc, metric, labels] of STAGES) {
      const pct = (p: number) => bucketPercentileMs(histogramBuckets(before[proc], metric, labels), histogramBuckets(after[proc], metric, labels), p);
      out[name] = { p50: pct(0.5), p99: pct(0.99) };
    }
    return out;
  }

  /** Every order answered, paid and consumed by both consumer groups (bounded by limitMs). */
  async drained(limitMs: number): Promise<boolean> {
    const until = now() + limitMs;
    while (now() < until) {
      if (this.broadcast.pending === 0 && (await this.lag.sample(now()).catch(() => ({ total: 1 }))).total === 0) return true;
      await sleep(250);
    }
    return false;
  }

  async stop(): Promise<void> {
    this.viewers?.close();
    for (const c of this.clients) c.close();
    await this.lag?.disconnect().catch(() => undefined);
    for (const c of [this.api, this.workers]) if (c) await stopChild(c, 10_000).catch(() => undefined);
  }

  /** Drops this deployment's database, keys, topics and groups (on shared stores; private ones are wiped whole). */
  async dropNamespace(): Promise<void> {
    if (!this.config) return;
    const mongo = await MongoClient.connect(this.config.mongo.url);
    try { await dropNamespace(this.config, mongo); } finally { await mongo.close(); }
  }
}


