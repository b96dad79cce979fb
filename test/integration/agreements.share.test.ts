import Redis from 'ioredis';
import { capLua } from '../../src/orders/orders.lua';
import { refundShare } from '../../src/agreements';

/** The refund scripts return ⌊D×after/q⌋ − ⌊D×before/q⌋ to the cap in Lua (doubles); the allocator reverses refundShare (BigInt). They must agree to the fen. */
describe('the cap arithmetic in Lua', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  afterAll(() => redis.disconnect());
  const lua = `${capLua}\nreturn share(tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))`;

  it('when an order of any size is refunded in any pieces, then the Lua share equals refundShare, and the pieces add up to D', async () => {
    let seed = 20261202;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return Math.floor((seed / 2 ** 31) * n); };
    const cases: Array<[number, number, number, number]> = [[250, 3, 0, 2], [250, 3, 2, 3], [1, 1_000_000, 0, 999_999], [2 ** 53 - 1, 999_983, 0, 777_777], [9_007_199_254_740_000, 3, 1, 2]];
    for (let i = 0; i < 200; i++) {
      const q = 1 + rand(i % 2 ? 1_000_000 : 10);
      const d = i % 3 ? rand(1_000_000) : Math.floor(Math.random() * 2 ** 53);
      const before = rand(q + 1);
      cases.push([d, q, before, before + rand(q - before + 1)]);
    }
    for (const [d, q, before, after] of cases) {
      const got = Number(await redis.eval(lua, 0, d, q, before, after));
      expect({ d, q, before, after, got }).toEqual({ d, q, before, after, got: refundShare(d, q, before, after) });
    }
    // pieces of a partial refund add up to the whole
    const pieces = [[0, 1], [1, 4], [4, 7]].map(([b, a]) => redis.eval(lua, 0, 1001, 7, b, a));
    expect((await Promise.all(pieces)).map(Number).reduce((x, y) => x + y, 0)).toBe(1001);
  });
});
