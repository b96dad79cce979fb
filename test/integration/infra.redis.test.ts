import Redis from 'ioredis';
import { newNamespace } from '../helpers/env';

describe('redis (real)', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const k = newNamespace('rt');
  afterAll(async () => { await redis.del(`${k}:n`); redis.disconnect(); });

  it('when a Lua script runs, then its effect is atomic and its result comes back', async () => {
    redis.defineCommand('incrCapped', { numberOfKeys: 1, lua: "local v = redis.call('INCRBY', KEYS[1], ARGV[1]) if v > tonumber(ARGV[2]) then redis.call('DECRBY', KEYS[1], ARGV[1]) return -1 end return v" });
    const r = redis as Redis & { incrCapped(k: string, by: number, cap: number): Promise<number> };
    const results = await Promise.all(Array.from({ length: 20 }, () => r.incrCapped(`${k}:n`, 1, 10)));
    expect(results.filter((x) => x > 0)).toHaveLength(10);
    expect(await redis.get(`${k}:n`)).toBe('10');
  });

  it('when a Lua script fails, then the caller gets an error, not a silent success', async () => {
    await expect(redis.eval("return redis.error_reply('LIVEGIVE_BOOM')", 0)).rejects.toThrow('LIVEGIVE_BOOM');
    await expect(redis.eval("return redis.call('INCR', KEYS[1], 'extra')", 1, `${k}:x`)).rejects.toThrow();
  });
});
