import { z } from 'zod';

/** Every environment variable the service reads, with its default. The README's table mirrors this. */
const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL').default('mongodb://127.0.0.1:27017/livegive'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').default('redis://127.0.0.1:6379'),
  REDIS_CLUSTER_NODES: z.string().regex(/^$|^[^,:\s]+:\d{1,5}(,[^,:\s]+:\d{1,5})*$/, 'host:port,host:port,… of the cluster\'s nodes').default(''),
  LIVEGIVE_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  LIVEGIVE_PAYMENT_SECRET: z.string().min(16, 'must be at least 16 characters'),
  LIVEGIVE_NAMESPACE: z.string().regex(/^[a-z0-9_]{0,32}$/, 'lower-case letters, digits and _ only').default(''),
  LIVEGIVE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LIVEGIVE_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(256).default(12),
  LIVEGIVE_TOPIC_REPLICATION: z.coerce.number().int().min(1).max(7).optional(),
  LIVEGIVE_PRODUCE_LINGER_MS: z.coerce.number().int().min(0).max(100).default(2),
  LIVEGIVE_PROJECTION_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(5000).default(250),
  LIVEGIVE_ALLOCATOR_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(5000).default(100),
  LIVEGIVE_ALLOCATOR_LINGER_MS: z.coerce.number().int().min(0).max(5000).default(25),
  LIVEGIVE_ALLOCATOR_CADENCE_MS: z.coerce.number().int().min(0).max(5000).optional(),
  LIVEGIVE_ORDER_TTL_SECONDS: z.coerce.number().int().min(1).max(86400).default(900),
  LIVEGIVE_DEFAULT_BUYER_LIMIT: z.coerce.number().int().min(1).max(10000).default(5),
  LIVEGIVE_REFUND_WINDOW_SECONDS: z.coerce.number().int().min(0).default(7 * 86400),
  LIVEGIVE_IDEMPOTENCY_TTL_SECONDS: z.coerce.number().int().min(86400).default(48 * 3600),
  LIVEGIVE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(50).max(60000).default(1000),
  LIVEGIVE_REPUBLISH_AFTER_MS: z.coerce.number().int().min(100).default(10000),
  LIVEGIVE_REBUILD_GRACE_MS: z.coerce.number().int().min(0).max(60000).default(3000),
  LIVEGIVE_PAYMENT_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  LIVEGIVE_BODY_LIMIT: z.string().regex(/^\d+(kb|mb)$/).default('16kb'),
  LIVEGIVE_TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  LIVEGIVE_TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(1),
  LIVEGIVE_RATE_ORDERS_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  LIVEGIVE_RATE_SIGNUPS_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  LIVEGIVE_RATE_PAYMENTS_PER_SECOND: z.coerce.number().int().min(1).default(5000),
  LIVEGIVE_RATE_LIMITS: z.enum(['on', 'off']).default('on'),
  LIVEGIVE_RATE_PUBLIC_READS_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  LIVEGIVE_RATE_RECEIPTS_PER_MINUTE: z.coerce.number().int().min(1).default(300),
  LIVEGIVE_PUBLIC_READS_IN_FLIGHT: z.coerce.number().int().min(1).default(4),
  LIVEGIVE_WS_MAX_PER_IP: z.coerce.number().int().min(1).default(100),
  LIVEGIVE_FEED_INTERVAL_MS: z.coerce.number().int().min(20).max(5000).default(100),
  LIVEGIVE_OPS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  // 32 bytes as 64 hex digits or base64: encrypts merchant secrets at rest (AES-256-GCM); empty = merchant accounts refused
  LIVEGIVE_SECRETS_KEY: z.string().refine((v) => v === '' || /^[0-9a-fA-F]{64}$/.test(v) || (/^[A-Za-z0-9+/]{43}=$/.test(v) && Buffer.from(v, 'base64').length === 32), 'must be 32 bytes: 64 hex digits or 44 base64 characters').default(''),
  LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: z.coerce.number().int().min(1).max(1000).default(5),
  // a product listed without pledge.agreementId: its own agreement accepted on the charity's behalf, or listed but not sold
  LIVEGIVE_PLEDGE_WITHOUT_AGREEMENT: z.enum(['auto_accept', 'refuse']).default('auto_accept'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  readonly http: { port: number; host: string; bodyLimit: string; trustProxy: boolean; trustProxyHops: number; opsPort?: number };
  readonly kafka: { brokers: string[]; partitions: number; replication?: number; lingerMs: number; batchWaitMs: { projection: number; allocator: number }; allocatorLingerMs: number; allocatorCadenceMs: number; topics: { orderEvents: string; deadLetter: string; agreementEvents: string }; groupPrefix: string };
  readonly mongo: { url: string };
  readonly redis: { url: string; prefix: string; clusterNodes: string[] };
  readonly namespace: string;
  readonly auth: { adminToken: string; paymentSecret: string; paymentToleranceSeconds: number };
  readonly orders: { pledgeWithoutAgreement: 'auto_accept' | 'refuse'; ttlSeconds: number; defaultBuyerLimit: number; idempotencyTtlSeconds: number; refundWindowSeconds: number; sweepIntervalMs: number; republishAfterMs: number; rebuildGraceMs: number; maxOpenPerViewer: number };
  readonly rateLimits: { enabled: boolean; ordersPerMinute: number; signupsPerMinute: number; paymentsPerSecond: number; publicReadsPerMinute: number; receiptsPerMinute: number; publicReadsInFlight: number };
  readonly feed: { intervalMs: number; maxPerIp: number };
  /** the key that encrypts merchant secrets at rest, as given (hex or base64); '' when not configured */
  readonly payments: { secretsKey: string };
  readonly logLevel: Env['LIVEGIVE_LOG_LEVEL'];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Names of every variable the configuration reads (docker-compose.yml is checked against it). */
export const configKeys: readonly string[] = Object.keys(envSchema.shape);

/** Parses the environment once into a typed, frozen, nested object; throws naming every bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}${env[String(i.path[0])] === undefined ? ' (not set)' : ''}`));
  }
  const e = parsed.data;
  const ns = e.LIVEGIVE_NAMESPACE;
  const pre = ns ? `${ns}.` : '';
  const mongoUrl = ns ? withDatabase(e.MONGO_URL, `livegive_${ns}`) : e.MONGO_URL;
  return deepFreeze({
    http: { port: e.PORT, host: e.HOST, bodyLimit: e.LIVEGIVE_BODY_LIMIT, trustProxy: e.LIVEGIVE_TRUST_PROXY === 'true', trustProxyHops: e.LIVEGIVE_TRUST_PROXY_HOPS, opsPort: e.LIVEGIVE_OPS_PORT },
    kafka: {
      brokers: e.KAFKA_BROKERS.split(',').map((b) => b.trim()),
      partitions: e.LIVEGIVE_TOPIC_PARTITIONS,
      // unset: min(3, brokers in the cluster), decided when the topics are created
      replication: e.LIVEGIVE_TOPIC_REPLICATION,
      lingerMs: e.LIVEGIVE_PRODUCE_LINGER_MS,
      batchWaitMs: { projection: e.LIVEGIVE_PROJECTION_BATCH_WAIT_MS, allocator: e.LIVEGIVE_ALLOCATOR_BATCH_WAIT_MS },
      allocatorLingerMs: e.LIVEGIVE_ALLOCATOR_LINGER_MS,
      // unset: the feed's interval, so that each small batch meets a free frame slot
      allocatorCadenceMs: e.LIVEGIVE_ALLOCATOR_CADENCE_MS ?? e.LIVEGIVE_FEED_INTERVAL_MS,
      topics: { orderEvents: `${pre}livegive.order-events.v1`, deadLetter: `${pre}livegive.dead-letter.v1`, agreementEvents: `${pre}livegive.agreement-events.v1` },
      groupPrefix: `${pre}livegive`,
    },
    mongo: { url: mongoUrl },
    redis: { url: e.REDIS_URL, prefix: ns ? `lg:${ns}:` : 'lg:', clusterNodes: e.REDIS_CLUSTER_NODES ? e.REDIS_CLUSTER_NODES.split(',') : [] },
    namespace: ns,
    auth: { adminToken: e.LIVEGIVE_ADMIN_TOKEN, paymentSecret: e.LIVEGIVE_PAYMENT_SECRET, paymentToleranceSeconds: e.LIVEGIVE_PAYMENT_TOLERANCE_SECONDS },
    orders: {
      pledgeWithoutAgreement: e.LIVEGIVE_PLEDGE_WITHOUT_AGREEMENT,
      ttlSeconds: e.LIVEGIVE_ORDER_TTL_SECONDS,
      defaultBuyerLimit: e.LIVEGIVE_DEFAULT_BUYER_LIMIT,
      idempotencyTtlSeconds: e.LIVEGIVE_IDEMPOTENCY_TTL_SECONDS,
      refundWindowSeconds: e.LIVEGIVE_REFUND_WINDOW_SECONDS,
      sweepIntervalMs: e.LIVEGIVE_SWEEP_INTERVAL_MS,
      republishAfterMs: e.LIVEGIVE_REPUBLISH_AFTER_MS,
      rebuildGraceMs: e.LIVEGIVE_REBUILD_GRACE_MS,
      maxOpenPerViewer: e.LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER,
    },
    rateLimits: {
      enabled: e.LIVEGIVE_RATE_LIMITS === 'on',
      ordersPerMinute: e.LIVEGIVE_RATE_ORDERS_PER_MINUTE,
      signupsPerMinute: e.LIVEGIVE_RATE_SIGNUPS_PER_MINUTE,
      paymentsPerSecond: e.LIVEGIVE_RATE_PAYMENTS_PER_SECOND,
      publicReadsPerMinute: e.LIVEGIVE_RATE_PUBLIC_READS_PER_MINUTE,
      receiptsPerMinute: e.LIVEGIVE_RATE_RECEIPTS_PER_MINUTE,
      publicReadsInFlight: e.LIVEGIVE_PUBLIC_READS_IN_FLIGHT,
    },
    feed: { intervalMs: e.LIVEGIVE_FEED_INTERVAL_MS, maxPerIp: e.LIVEGIVE_WS_MAX_PER_IP },
    payments: { secretsKey: e.LIVEGIVE_SECRETS_KEY },
    logLevel: e.LIVEGIVE_LOG_LEVEL,
  });
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

function deepFreeze<T>(o: T): T {
  for (const v of Object.values(o as object)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}
