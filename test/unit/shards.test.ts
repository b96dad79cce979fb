import { allShards, newOrderId, shardKeys, shardOf, shardOfOrder, SHARDS } from '../../src/infra/shards';
import { slotOf } from '../../src/infra/redis';
import { loadConfig, ConfigError } from '../../src/config';

describe('hot-state shards (pure)', () => {
  it('when an order id is minted for a product, then the id alone names the product\'s shard', () => {
    for (const p of ['p_a', 'p_Zx9-_q', 'p_0123456789abcdef']) {
      const id = newOrderId(p);
      expect(id).toMatch(/^o_[0-9a-f]{2}[A-Za-z0-9_-]{16}$/);
      expect(shardOfOrder(id)).toBe(shardOf(p));
    }
  });

  it('when an id was not minted here, then it names no shard', () => {
    for (const id of ['o_stray', 'o_zz0123456789abcdef', 'o_ff0123456789abcdef', 'x_000123456789abcdef', '']) expect(shardOfOrder(id)).toBeNull();
  });

  it('when keys of one shard are built, then they all hash to one cluster slot, and the 64 shards spread over three masters\' slot ranges', () => {
    const k = shardKeys('lg:t:', 7);
    const keys = [k.sentinel, k.expiring, k.outbox, k.held, k.order('o_x'), k.product('p'), k.stock('p'), k.bought('p', 'v'), k.stream('s'), k.pins('s'), k.idem('v', 'h'), k.open('v'), k.viewer('v')];
    expect(new Set(keys.map(slotOf)).size).toBe(1);
    const perMaster = [0, 0, 0];
    for (const s of allShards()) { const slot = slotOf(shardKeys('lg:', s).outbox); perMaster[slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2]++; }
    expect(perMaster.reduce((a, b) => a + b)).toBe(SHARDS);
    expect(Math.min(...perMaster)).toBeGreaterThanOrEqual(16);
  });

  it('when shardOf is asked twice, then it answers the same (it decides where data lives)', () => {
    expect(shardOf('p_n9Efy-tFTiTDadwq')).toBe(shardOf('p_n9Efy-tFTiTDadwq'));
    expect(shardOf('')).toBeGreaterThanOrEqual(0);
  });

  it('when REDIS_CLUSTER_NODES is malformed, then start-up stops naming it; well formed, it is split into nodes', () => {
    const base = { LIVEGIVE_ADMIN_TOKEN: 'a'.repeat(16), LIVEGIVE_PAYMENT_SECRET: 'b'.repeat(16) };
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: 'localhost' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, REDIS_CLUSTER_NODES: 'a:1,,b:2' })).toThrow(/REDIS_CLUSTER_NODES/);
    expect(loadConfig({ ...base, REDIS_CLUSTER_NODES: '127.0.0.1:7001,127.0.0.1:7002' }).redis.clusterNodes).toEqual(['127.0.0.1:7001', '127.0.0.1:7002']);
    expect(loadConfig(base).redis.clusterNodes).toEqual([]);
    expect(() => loadConfig({ ...base, LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '0' })).toThrow(/LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER/);
  });
});
