import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/infra/logger';
import { createRedisClient, taggedKey } from '../../src/infra/redis';
import { removeNamespaceKeys } from '../../scripts/bench/data/cleanup';
import { newNamespace, testEnv } from '../helpers/env';

// `npm run bench:data` removes its namespaces' Redis keys when it ends: every one of them, and nobody else's.
describe('bench:data Redis cleanup', () => {
  const ns = newNamespace('bd');
  const mine = loadConfig(testEnv({ LIVEGIVE_NAMESPACE: ns }));
  // a namespace whose name starts with this one's: its keys must survive
  const neighbour = loadConfig(testEnv({ LIVEGIVE_NAMESPACE: `${ns}d` }));
  const redis = createRedisClient(mine.redis, createLogger('silent'));
  afterAll(async () => {
    await removeNamespaceKeys({ redis, config: neighbour });
    redis.disconnect();
  });

  it('removes every key under the namespace prefix (plain and hash-tagged), and only those', async () => {
    const ours = [
      ...Array.from({ length: 2500 }, (_, i) => taggedKey(mine.redis.prefix, 'tot', 'alloc', 'evt', `e${i}`)),
      `${mine.redis.prefix}order:o1`, taggedKey(mine.redis.prefix, 'c1', 'head'),
    ];
    const theirs = [taggedKey(neighbour.redis.prefix, 'tot', 'alloc', 'evt', 'e1'), `${neighbour.redis.prefix}order:o1`];
    for (const k of [...ours, ...theirs]) await redis.set(k, '1', 'EX', 600);

    expect(await removeNamespaceKeys({ redis, config: mine })).toBe(ours.length);

    const left = await Promise.all([...ours, ...theirs].map((k) => redis.exists(k)));
    expect(left.slice(0, ours.length).every((n) => n === 0)).toBe(true);
    expect(left.slice(ours.length)).toEqual([1, 1]);
  });

  it('refuses the service\'s own, un-namespaced keys', async () => {
    const service = loadConfig(testEnv({ LIVEGIVE_NAMESPACE: '' }));
    await expect(removeNamespaceKeys({ redis, config: service })).rejects.toThrow(/refusing/);
  });
});
