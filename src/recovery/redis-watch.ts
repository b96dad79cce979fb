import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import type { Stoppable } from '../app';
import type { Keyspace } from '../infra/redis';
import { isCluster, masterOf, readEach } from '../infra/redis';
import { allShards, shardKeys, SHARDS } from '../infra/shards';

/** One part of the Redis state, rebuilt from MongoDB and the Kafka log, for the given shards. Steps must be idempotent. */
export interface RebuildStep { name: string; run(deps: Deps, shards: number[]): Promise<unknown> }

interface Sentinel { runId: string; at: string }

/**
 * The key that exists only while a shard holds verified state (one per shard, in its slot). An order script
 * that refuses to run without it closes the gap between Redis coming back empty and this process noticing.
 */
export const sentinelKey = (key: Keyspace, shard = 0) => shardKeys(key(''), shard).sentinel;

const LOCK_MS = 30_000;
const renewLua = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";
const releaseLua = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/**
 * Notices that Redis lost (or may have lost) a shard's state, and rebuilds that shard before its orders resume.
 * Each shard's sentinel holds the run id of the server that served it when its state was last known good; any
 * other run id (a restart, with or without its persistence file — append-only fsync every second can drop the
 * last writes — or, on a cluster, a replica promoted after its master failed: replication is asynchronous) or a
 * missing sentinel in a deployment MongoDB knows about means rebuild. One process rebuilds under a lock; the
 * shard's scripts refuse meanwhile in every process. When every shard is lost (a single Redis restarted) the
 * whole service refuses orders (deps.state.rebuilding), as it always did.
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
  /** shards rebuilt by the last rebuild this process ran */
  lastRebuilt: number[] = [];

  constructor(private readonly deps: Deps, private readonly steps: RebuildStep[], private readonly intervalMs = 500) {}

  /** Checks once (bootstrap: a first start records the deployment), then keeps watching. */
  async start(): Promise<Stoppable> {
    await this.check();
    // a reconnect to a single Redis may be to a fresh server: refuse orders until the next check says otherwise
    // (a cluster client reconnects node by node; the per-shard check covers it)
    const single = !isCluster(this.deps.redis);
    if (single) this.deps.redis.on('ready', this.onReady);
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
    return { stop: async () => { this.stopped = true; if (this.timer) clearInterval(this.timer); if (single) this.deps.redis.off('ready', this.onReady); await this.checking; } };
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

  /** The run id of the server serving each shard now (one INFO per master). */
  private async runIds(): Promise<string[]> {
    const byNode = new Map<unknown, Promise<string>>();
    const prefix = this.deps.config.redis.prefix;
    return Promise.all(allShards().map(async (s) => {
      const node = await masterOf(this.deps.redis, shardKeys(prefix, s).sentinel);
      let id = byNode.get(node);
      if (!id) byNode.set(node, (id = node.info('server').then((i) => /run_id:(\w+)/.exec(i)?.[1] ?? '')));
      const runId = await id;
      if (!runId) throw new Error('redis INFO has no run_id');
      return runId;
    }));
  }

  private async checkOnce(): Promise<void> {
    if (this.stopped) return;
    const { redis } = this.deps;
    const prefix = this.deps.config.redis.prefix;
    const runIds = await this.runIds();
    // one pipeline per master (64 GETs cost as many round trips as there are masters)
    const raws = await readEach<string | null>(redis, allShards().map((s) => shardKeys(prefix, s).sentinel), (p, key) => p.get(key));
    const failed = raws.find((r): r is Error => r instanceof Error);
    if (failed) throw failed;
    const sentinels = raws.map((raw) => (typeof raw === 'string' ? (JSON.parse(raw) as Sentinel) : null));
    const lost = allShards().filter((s) => sentinels[s]?.runId !== runIds[s]);
    if (!lost.length) { this.resume(); return; }
    const marker = this.deps.db.collection<{ _id: string; at: Date }>('recovery');
    if (sentinels.every((x) => !x) && !(await marker.findOne({ _id: 'deployment' }))) {
      // first start of this deployment: nothing was lost, Redis is simply new
      await marker.insertOne({ _id: 'deployment', at: new Date() }).catch((e: { code?: number }) => { if (e.code !== 11000) throw e; });
      await this.writeSentinels(allShards(), runIds);
      this.resume();
      return;
    }
    const all = lost.length === SHARDS;
    if (all && !this.deps.state.rebuilding) this.deps.logger.warn({ runId: runIds[0], was: sentinels[0]?.runId ?? null }, 'redis lost or may have lost state; refusing orders until rebuilt');
    if (all) this.deps.state.rebuilding = true;
    else this.deps.logger.warn({ shards: lost.length }, 'redis shards lost or may have lost state (a master changed); refusing their orders until rebuilt');
    await this.rebuild(lost, runIds);
  }

  private async rebuild(shards: number[], runIds: string[]): Promise<void> {
    const { redis, key, logger } = this.deps;
    const lock = key('recovery', 'lock');
    if ((await redis.set(lock, this.owner, 'PX', LOCK_MS, 'NX')) !== 'OK') return; // another process rebuilds; keep watching
    const renew = setInterval(() => void redis.eval(renewLua, 1, lock, this.owner, LOCK_MS).catch(() => undefined), LOCK_MS / 3);
    const started = Date.now();
    try {
      // from here the shards' order scripts refuse (no sentinel) in every process: nothing changes their order
      // state while it is rebuilt. Transitions whose script already ran get a grace to reach Kafka, so the
      // rebuild, which reads the log's end after it, includes them.
      const prefix = this.deps.config.redis.prefix;
      await Promise.all(shards.map((s) => redis.del(shardKeys(prefix, s).sentinel)));
      await new Promise((r) => setTimeout(r, this.deps.config.orders.rebuildGraceMs));
      for (const step of this.steps) {
        const t = Date.now();
        const result = await step.run(this.deps, shards);
        logger.info({ step: step.name, ms: Date.now() - t, result }, 'rebuilt');
      }
      // recorded against the run ids seen before rebuilding: a restart meanwhile triggers another rebuild
      await this.writeSentinels(shards, runIds);
      this.rebuilds++;
      this.lastRebuilt = shards;
      logger.info({ ms: Date.now() - started, shards: shards.length }, 'redis state rebuilt; taking orders again');
      this.resume();
    } finally {
      clearInterval(renew);
      await redis.eval(releaseLua, 1, lock, this.owner).catch(() => undefined);
    }
  }

  private async writeSentinels(shards: number[], runIds: string[]): Promise<void> {
    const at = new Date().toISOString();
    const prefix = this.deps.config.redis.prefix;
    await Promise.all(shards.map((s) => this.deps.redis.set(shardKeys(prefix, s).sentinel, JSON.stringify({ runId: runIds[s], at } satisfies Sentinel))));
  }

  private resume(): void {
    if (this.deps.state.rebuilding) this.deps.logger.info('redis state verified; orders resume');
    this.deps.state.rebuilding = false;
  }
}
