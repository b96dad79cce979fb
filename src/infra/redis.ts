import Redis, { RedisOptions } from 'ioredis';
import type { Logger } from './logger';

/**
 * An ioredis client that reconnects for ever and fails commands fast while Redis is away. (Auto-pipelining
 * was tried and taken out: rate-limiter-flexible's callback-style script calls break under it, "results[i]
 * is not iterable", and it measured within noise: 394 vs 371 orders/s at 1,000/s offered.)
 */
export function createRedis(url: string, logger: Logger, opts: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    ...opts,
  });
  let down = false;
  redis.on('error', (err) => {
    if (!down) logger.warn({ err: err.message }, 'redis connection error');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('redis reconnected');
    down = false;
  });
  return redis;
}

/**
 * Deletes every key matching a pattern (SCAN, never KEYS: Redis keeps serving meanwhile), except those
 * `keep` names. Answers how many were deleted.
 */
export async function unlinkMatching(redis: Redis, pattern: string, keep: (key: string) => boolean = () => false): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    const doomed = keys.filter((k) => !keep(k));
    if (doomed.length) deleted += await redis.unlink(...doomed);
  } while (cursor !== '0');
  return deleted;
}

/** Key builder for one namespace: every Redis key of the service goes through it. */
export function keyspace(prefix: string) {
  return (...parts: (string | number)[]) => prefix + parts.join(':');
}
export type Keyspace = ReturnType<typeof keyspace>;
