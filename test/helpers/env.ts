import { randomBytes } from 'node:crypto';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const PAYMENT_SECRET = 'test-payment-secret-0123456789abcdef';

/** A fresh namespace per test file: its own MongoDB database, Redis key prefix and Kafka topics. */
export function newNamespace(label = 't'): string {
  return `${label}_${randomBytes(5).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 32);
}

export function testEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    MONGO_URL: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/livegive',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    // set (scripts/cluster/redis.sh env) to run a suite against a Redis Cluster
    REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES ?? '',
    LIVEGIVE_ADMIN_TOKEN: ADMIN_TOKEN,
    LIVEGIVE_PAYMENT_SECRET: PAYMENT_SECRET,
    LIVEGIVE_NAMESPACE: newNamespace(),
    LIVEGIVE_LOG_LEVEL: process.env.LIVEGIVE_TEST_LOG_LEVEL ?? 'silent',
    LIVEGIVE_TOPIC_PARTITIONS: '3',
    LIVEGIVE_RATE_LIMITS: 'off',
    PORT: '0',
    HOST: '127.0.0.1',
    ...overrides,
  };
}

export async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 20000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
