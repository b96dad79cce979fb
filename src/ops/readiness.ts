import type { Admin } from 'kafkajs';
import type { Deps } from '../deps';

export interface ReadinessReport { ready: boolean; checks: Record<'kafka' | 'mongo' | 'redis', 'ok' | string>; rebuilding: boolean }

const withTimeout = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`${what} did not answer in ${ms} ms`)), ms).unref())]);

/** Asks each store over its own protocol: a Kafka metadata request, a MongoDB ping, a Redis PING. */
export class Readiness {
  private admin: Admin | null = null;

  constructor(private readonly deps: Deps) {}

  async check(): Promise<ReadinessReport> {
    const [kafka, mongo, redis] = await Promise.all([
      this.kafka().then(() => 'ok' as const, (e: Error) => e.message),
      withTimeout(this.deps.db.command({ ping: 1 }), 2000, 'mongo').then(() => 'ok' as const, (e: Error) => e.message),
      withTimeout(this.deps.redis.ping(), 1000, 'redis').then(() => 'ok' as const, (e: Error) => e.message),
    ]);
    const checks = { kafka, mongo, redis };
    const rebuilding = this.deps.state.rebuilding;
    const ready = !rebuilding && Object.values(checks).every((c) => c === 'ok');
    for (const [store, c] of Object.entries(checks)) this.deps.metrics.storeReachable.set({ store }, c === 'ok' ? 1 : 0);
    this.deps.metrics.ready.set(ready ? 1 : 0);
    return { ready, checks, rebuilding };
  }

  private async kafka(): Promise<void> {
    if (!this.admin) {
      this.admin = this.deps.kafka.admin({ retry: { retries: 0 } });
      await withTimeout(this.admin.connect(), 2000, 'kafka').catch((e) => { this.admin = null; throw e; });
    }
    await withTimeout(this.admin.fetchTopicMetadata({ topics: [this.deps.config.kafka.topics.orderEvents] }), 2000, 'kafka')
      .catch(async (e) => { const a = this.admin; this.admin = null; await a?.disconnect().catch(() => undefined); throw e; });
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
  }
}
