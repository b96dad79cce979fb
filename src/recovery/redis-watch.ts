import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import type { Stoppable } from '../app';
import type { Keyspace } from '../infra/redis';

/** One part of the Redis state, rebuilt from MongoDB and the Kafka log. Steps must be idempotent. */
export interface RebuildStep { name: string; run(deps: Deps): Promise<unknown> }

interface Sentinel { runId: string; at: string }

/**
 * The key that exists only while Redis holds verified state. An order script that refuses to run without it
 * closes the gap between Redis coming back empty and this process noticing (queued commands run first).
 */
export const sentinelKey = (key: Keyspace) => key('recovery', 'sentinel');

const LOCK_MS = 30_000;
const renewLua = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
const releaseLua = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/**
 * Notices that Redis lost (or may have lost) its state, and rebuilds it before orders resume. The sentinel
 * key holds the run id of the Redis server whose state was last known good; any other run id (a restart,
 * with or without its persistence file — append-only fsync every second can drop the last writes) or a
 * missing sentinel in a deployment MongoDB knows about means rebuild. One process rebuilds under a lock;
 * every process refuses orders (deps.state.rebuilding) until the sentinel names the current server.
 */
export class RedisWatch {
  private timer: NodeJS.Timeout | null = null;
  private checking: Promise<void> | null = null;
  private stopped = false;
  private failing = false;
  private readonly owner = randomBytes(8).toString('hex');
  private readonly onReady = () => { this.deps.state.rebuilding = true; void this.check(); };
  /** rebuilds this process ran to completion (tests and the chaos report read it) */
  rebuilds = 0;

  constructor(private readonly deps: Deps, private readonly steps: RebuildStep[], private readonly intervalMs = 500) {}

  /** Checks once (bootstrap: a first start records the deployment), then keeps watching. */
  async start(): Promise<Stoppable> {
    await this.check();
    // a reconnect may be to a fresh server: refuse orders until the next check says otherwise
    this.deps.redis.on('ready', this.onReady);
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
    return { stop: async () => { this.stopped = true; if (this.timer) clearInterval(this.timer); this.deps.redis.off('ready', this.onReady); await this.checking; } };
  }

  check(): Promise<void> {
    this.checking ??= this.checkOnce()
      .then(() => { this.failing = false; })
      .catch((err: Error) => {
        if (!this.failing) this.deps.logger.warn({ err: err.message }, 'redis state check failed; will retry');
        this.failing = true;
      })
      .finally(() => { this.checking = null; });
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    if (this.stopped) return;
    const { redis, key } = this.deps;
    const runId = /run_id:(\w+)/.exec(await redis.info('server'))?.[1];
    if (!runId) throw new Error('redis INFO has no run_id');
    const raw = await redis.get(sentinelKey(key));
    const sentinel = raw ? (JSON.parse(raw) as Sentinel) : null;
    if (sentinel?.runId === runId) { this.resume(); return; }
    const marker = this.deps.db.collection<{ _id: string; at: Date }>('recovery');
    if (!sentinel && !(await marker.findOne({ _id: 'deployment' }))) {
      // first start of this deployment: nothing was lost, Redis is simply new
      await marker.insertOne({ _id: 'deployment', at: new Date() }).catch((e: { code?: number }) => { if (e.code !== 11000) throw e; });
      await this.writeSentinel(runId);
      this.resume();
      return;
    }
    if (!this.deps.state.rebuilding) this.deps.logger.warn({ runId, was: sentinel?.runId ?? null }, 'redis lost or may have lost state; refusing orders until rebuilt');
    this.deps.state.rebuilding = true;
    await this.rebuild(runId);
  }

  private async rebuild(runId: string): Promise<void> {
    const { redis, key, logger } = this.deps;
    const lock = key('recovery', 'lock');
    if ((await redis.set(lock, this.owner, 'PX', LOCK_MS, 'NX')) !== 'OK') return; // another process rebuilds; keep watching
    const renew = setInterval(() => void redis.eval(renewLua, 1, lock, this.owner, LOCK_MS).catch(() => undefined), LOCK_MS / 3);
    const started = Date.now();
    try {
      // from here every order script refuses (no sentinel) in every process: nothing changes order state
      // while it is rebuilt. Transitions whose script already ran get a grace to reach Kafka, so the
      // rebuild, which reads the log's end after it, includes them.
      await redis.del(sentinelKey(key));
      await new Promise((r) => setTimeout(r, this.deps.config.orders.rebuildGraceMs));
      for (const step of this.steps) {
        const t = Date.now();
        const result = await step.run(this.deps);
        logger.info({ step: step.name, ms: Date.now() - t, result }, 'rebuilt');
      }
      // recorded against the run id seen before rebuilding: a restart meanwhile triggers another rebuild
      await this.writeSentinel(runId);
      this.rebuilds++;
      logger.info({ ms: Date.now() - started }, 'redis state rebuilt; taking orders again');
      this.resume();
    } finally {
      clearInterval(renew);
      await redis.eval(releaseLua, 1, lock, this.owner).catch(() => undefined);
    }
  }

  private async writeSentinel(runId: string): Promise<void> {
    await this.deps.redis.set(sentinelKey(this.deps.key), JSON.stringify({ runId, at: new Date().toISOString() } satisfies Sentinel));
  }

  private resume(): void {
    if (this.deps.state.rebuilding) this.deps.logger.info('redis state verified; orders resume');
    this.deps.state.rebuilding = false;
  }
}
