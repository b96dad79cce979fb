import Redis, { Cluster, RedisOptions } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import type { Logger } from './logger';

const clientOptions: RedisOptions = {
  maxRetriesPerRequest: 1,
  enableOfflineQueue: true,
  connectTimeout: 2000,
  retryStrategy: (times) => Math.min(50 * times, 1000),
};

/**
 * An ioredis client that reconnects for ever and fails commands fast while Redis is away. Without
 * auto-pipelining: it once broke the scripts (the script timer sent a script a pipeline had copied back to the
 * client, which pipelined it again, for ever; fixed in `timeScripts`), and once that worked it measured within
 * noise (api CPU per 1,000 orders 1,973 vs 1,989 side by side) while every command would wait for the end of the
 * event loop's poll phase, which under load holds every request's callbacks.
 */
export function createRedis(url: string, logger: Logger, opts: RedisOptions = {}): Redis {
  return watchConnection(new Redis(url, { ...clientOptions, ...opts }), logger);
}

/**
 * The service's Redis: an ioredis Cluster when REDIS_CLUSTER_NODES names its nodes, else one server. Both
 * answer the same commands; every multi-key command and script of the service stays within one hash tag,
 * so the same code runs on both. Typed as Redis so the slices need not care which it is.
 */
export function createRedisClient(cfg: { url: string; clusterNodes: string[] }, logger: Logger): Redis {
  if (!cfg.clusterNodes.length) return createRedis(cfg.url, logger);
  const cluster = new Cluster(cfg.clusterNodes.map((n) => { const i = n.lastIndexOf(':'); return { host: n.slice(0, i), port: Number(n.slice(i + 1)) }; }), {
    redisOptions: clientOptions,
    enableOfflineQueue: true,
    // a failover moves slots: retry MOVED/TRYAGAIN/CLUSTERDOWN for a few seconds rather than fail the order at once
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2000,
    clusterRetryStrategy: (times) => Math.min(100 * times, 1000),
  });
  return watchConnection(cluster, logger) as unknown as Redis;
}

function watchConnection<T extends Redis | Cluster>(redis: T, logger: Logger): T {
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger.warn({ err: err.message }, 'redis connection error');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('redis reconnected');
    down = false;
  });
  return redis;
}

export const isCluster = (redis: Redis): boolean => (redis as unknown as { isCluster?: boolean }).isCluster === true;
const asCluster = (redis: Redis) => redis as unknown as Cluster;

/** The servers that hold data: the masters of a cluster, or the one server. */
export function masters(redis: Redis): Redis[] {
  return isCluster(redis) ? asCluster(redis).nodes('master') : [redis];
}

/** The hash slot of a key (what decides its master on a cluster). */
export const slotOf = (key: string): number => calculateSlot(key);

/** The connection to the master that serves a key's slot now (the one server on a single Redis). */
export async function masterOf(redis: Redis, key: string): Promise<Redis> {
  if (!isCluster(redis)) return redis;
  const c = asCluster(redis);
  const owner = c.slots[slotOf(key)]?.[0];
  const node = owner && c.nodes('master').find((n) => `${n.options.host}:${n.options.port}` === owner);
  if (!node) { await c.refreshSlotsCache?.(); throw new Error(`no master known for the slot of ${key}`); }
  return node;
}

/** The run id of the server that answers for a key: a new one means its data may be older than what was acknowledged. */
export async function runIdFor(redis: Redis, key: string): Promise<string> {
  const info = await (await masterOf(redis, key)).info('server');
  const id = /run_id:(\w+)/.exec(info)?.[1];
  if (!id) throw new Error('redis INFO has no run_id');
  return id;
}

/**
 * Deletes every key matching a pattern (SCAN, never KEYS: Redis keeps serving meanwhile) on every master,
 * except those `keep` names. Keys go one per UNLINK on a cluster (a multi-key UNLINK must stay in one slot).
 * Answers how many were deleted.
 */
export async function unlinkMatching(redis: Redis, pattern: string, keep: (key: string) => boolean = () => false): Promise<number> {
  let deleted = 0;
  const one = isCluster(redis);
  for (const node of masters(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      const doomed = keys.filter((k) => !keep(k));
      if (!doomed.length) continue;
      if (!one) deleted += await node.unlink(...doomed);
      else {
        const res = (await doomed.reduce((p, k) => p.unlink(k), node.pipeline()).exec()) ?? [];
        deleted += res.reduce((n, [, v]) => n + Number(v ?? 0), 0);
      }
    } while (cursor !== '0');
  }
  return deleted;
}

/**
 * Writes grouped into one pipeline per hash slot (a cluster pipeline must stay in one slot; a single Redis
 * gets one pipeline), flushed every `every` commands. `add(key, cmd)` queues a command on key's slot.
 */
export function slotBatches(redis: Redis, every = 1000) {
  const one = !isCluster(redis);
  let pipes = new Map<number, ReturnType<Redis['pipeline']>>();
  let queued = 0;
  const flush = async () => {
    const all = [...pipes.values()];
    pipes = new Map();
    queued = 0;
    for (const res of await Promise.all(all.map((p) => p.exec()))) for (const [err] of res ?? []) if (err) throw err;
  };
  return {
    async add(key: string, cmd: (p: ReturnType<Redis['pipeline']>) => unknown): Promise<void> {
      const slot = one ? 0 : slotOf(key);
      const p = pipes.get(slot) ?? pipes.set(slot, redis.pipeline()).get(slot)!;
      cmd(p);
      if (++queued >= every) await flush();
    },
    flush,
  };
}

/** Key builder for one namespace: every Redis key of the service goes through it. */
export function keyspace(prefix: string) {
  return (...parts: (string | number)[]) => prefix + parts.join(':');
}
export type Keyspace = ReturnType<typeof keyspace>;

/** A key under a hash tag: every key of one tag is in one slot, so one script or MULTI may touch them together. */
export const taggedKey = (prefix: string, tag: string, ...parts: (string | number)[]) => `${prefix}{${tag}}:${parts.join(':')}`;

type Pipe = ReturnType<Redis['pipeline']>;

/**
 * One read per key, sent as one pipeline per server (a master of a cluster serves many slots, and single-key
 * commands of different slots may share a pipeline on its own connection): what a sweep of every shard costs
 * in round trips is the number of masters, not of shards. A key whose slot moved meanwhile answers an error,
 * returned in its place (the caller retries on its next pass).
 */
export async function readEach<T>(redis: Redis, keys: string[], cmd: (p: Pipe, key: string) => unknown): Promise<(T | Error)[]> {
  const groups = new Map<Redis, number[]>();
  for (let i = 0; i < keys.length; i++) {
    const node = await masterOf(redis, keys[i]).catch(() => redis);
    (groups.get(node) ?? groups.set(node, []).get(node)!).push(i);
  }
  const out: (T | Error)[] = new Array(keys.length);
  await Promise.all([...groups].map(async ([node, idx]) => {
    const p = node.pipeline();
    for (const i of idx) cmd(p, keys[i]);
    const res = await p.exec().catch((e: Error) => idx.map(() => [e, null] as [Error, null]));
    idx.forEach((i, j) => { const [err, v] = res?.[j] ?? [new Error('no reply'), null]; out[i] = err ?? (v as T); });
  }));
  return out;
}
