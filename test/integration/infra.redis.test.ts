import Redis from 'ioredis';
import pino from 'pino';
import { Histogram, Registry } from 'prom-client';
import { newNamespace } from '../helpers/env';
import { createRedis } from '../../src/infra/redis';
import { timeScripts } from '../../src/infra/script-timing';

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

  it('when scripts are timed on an auto-pipelining client, then calls answer, a call inside a pipeline is queued there, and only client calls are timed', async () => {
    const client = createRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', pino({ level: 'silent' }), { enableAutoPipelining: true });
    const seconds = new Histogram({ name: 'test_script_seconds', help: 'test', labelNames: ['script'], registers: [new Registry()] });
    timeScripts(client, seconds);
    client.defineCommand('lgTestEcho', { numberOfKeys: 1, lua: "redis.call('INCR', KEYS[1]) return ARGV[1]" });
    const r = client as Redis & { lgTestEcho(k: string, v: string): Promise<string> };
    try {
      // many calls in one turn of the event loop: ioredis sends them as one pipeline
      expect(await Promise.all(Array.from({ length: 20 }, (_, i) => r.lgTestEcho(`${k}:echo`, `v${i}`)))).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
      const piped = client.pipeline() as ReturnType<Redis['pipeline']> & { lgTestEcho(k: string, v: string): unknown };
      piped.lgTestEcho(`${k}:echo`, 'in-pipeline');
      expect(await piped.exec()).toEqual([[null, 'in-pipeline']]);
      expect(await client.get(`${k}:echo`)).toBe('21');
      const timed = (await seconds.get()).values.find((v) => v.metricName === 'test_script_seconds_count' && v.labels.script === 'lgTestEcho');
      expect(timed?.value).toBe(20);
    } finally {
      await client.del(`${k}:echo`);
      client.disconnect();
    }
  });
});
