import { startService, type TestService } from '../helpers/app';
import { orderEvent } from '../helpers/order-events';
import { allocate, type PositionedEvent } from '../../src/allocator/allocate';
import { applyPlan, builtCharitiesKey, charityKeyspace, confirmDue, displayOf, qualifyOps } from '../../src/allocator/totals.store';
import { applyOps, emptyState, entryOps, totalsKeys, type TotalsState } from '../../src/allocator/totals';
import { applyPlansLua } from '../../src/allocator/allocator.lua';
import type { Deps } from '../../src/deps';
import type { OrderEvent } from '../../src/events';

/**
 * The apply script collects a batch's HSETs and confirmations into a few multi-field calls, and takes a confirmation's
 * ops as the JSON it stores. What it leaves in Redis must be what the in-memory interpreter (the rebuild's) makes of
 * the same entries, op by op, whatever the batch mixes: payments, a whole refund and a partial refund of an order
 * paid in the same batch, more writes than one call takes.
 */
describe('the totals script against the in-memory interpreter', () => {
  let svc: TestService;
  beforeAll(async () => { svc = await startService('api'); });
  afterAll(async () => { await svc?.stop(); });

  const at = new Date(Date.now() - 60_000);
  const partialRefund = (o: OrderEvent, n: number, units: number, done: number): OrderEvent => ({
    ...o, eventId: `${o.orderId}.order.refunded.${n}`, type: 'order.refunded', status: done === o.quantity ? 'refunded' : 'partially_refunded',
    orderVersion: 2 + n, refundNo: n, refundQuantity: units, refundedQuantity: done, refundId: `r${n}`,
  });

  /** Every hash, list and pending confirmation of the charity that the expected state names, read back from Redis. */
  async function stateOf(deps: Deps, c: string, expected: TotalsState) {
    const k = charityKeyspace(deps, c);
    const hashes = await Promise.all([...expected.hashes.keys()].map(async (key) => [key, await deps.redis.hgetall(k(key))] as const));
    const lists = await Promise.all([...expected.lists.keys()].map(async (key) => [key, await deps.redis.lrange(k(key), 0, -1)] as const));
    const scores = await deps.redis.zrange(k(totalsKeys.confirm), '0', '-1', 'WITHSCORES');
    const ops = await deps.redis.hgetall(k(totalsKeys.confirmOps));
    const pending = new Map<string, { score: number; ops: unknown }>();
    for (let i = 0; i < scores.length; i += 2) pending.set(scores[i], { score: Number(scores[i + 1]), ops: JSON.parse(ops[scores[i]]) });
    return { hashes: new Map(hashes), lists: new Map(lists), pending, opsWithoutScore: Object.keys(ops).filter((m) => !pending.has(m)) };
  }

  function expectSame(got: Awaited<ReturnType<typeof stateOf>>, want: TotalsState, deps: Deps, c: string) {
    const k = charityKeyspace(deps, c);
    for (const [key, h] of want.hashes) {
      // the feed's seq is the script's own (bumped once per touched stream), never the interpreter's
      const { seq: _seq, ...rest } = got.hashes.get(key)!;
      expect({ key, h: rest }).toEqual({ key, h: Object.fromEntries(h) });
    }
    for (const [key, l] of want.lists) expect({ key, l: got.lists.get(key) }).toEqual({ key, l });
    expect([...got.pending.keys()].sort()).toEqual([...want.pending.keys()].sort());
    for (const [m, p] of want.pending) expect({ m, ...got.pending.get(m)! }).toEqual({ m, score: p.score, ops: qualifyOps(p.ops, k) });
    expect(got.opsWithoutScore).toEqual([]);
  }

  it('when a batch of 1,200 payments, a refund and two partial refunds goes through the script, then Redis holds what the interpreter computes, and again after the confirmations fall due', async () => {
    const deps = svc.deps;
    const c = `cs${Date.now().toString(36)}`;
    const k = charityKeyspace(deps, c);
    await deps.redis.set(k(totalsKeys.built), 'test');
    await deps.redis.sadd(builtCharitiesKey(deps), c);
    const paid = Array.from({ length: 1200 }, (_, i) => orderEvent('order.paid', { orderId: `${c}_o${i}`, charityId: c, streamId: `${c}s${i % 3}`, productId: `p${i % 4}`, hostId: `h${i % 2}`, quantity: 1 + (i % 3), pledgePerUnitFen: 100 + i }, at));
    const events: OrderEvent[] = [
      ...paid,
      orderEvent('order.refunded', { orderId: paid[1].orderId, charityId: c, streamId: paid[1].streamId, productId: paid[1].productId, hostId: paid[1].hostId, quantity: paid[1].quantity, pledgePerUnitFen: paid[1].pledgePerUnitFen }, at),
      partialRefund(paid[2], 1, 1, 1),
      partialRefund(paid[2], 2, 1, 2),
    ];
    const pes: PositionedEvent[] = events.map((event, offset) => ({ event, partition: 0, offset }));
    const [plan] = allocate(pes, new Map(), new Map());
    const windowMs = deps.config.orders.refundWindowSeconds * 1000;
    const ops = plan.entries.flatMap((e) => entryOps(e, displayOf(plan.sources.get(e.key)!.event), windowMs));

    const reply = await applyPlan(deps, plan, windowMs);
    expect(reply.slice(0, 2)).toEqual(['OK', 1]);
    // and it names each stream it moved with that stream's new partial seq (the allocator notifies the feed from them)
    const moved = new Map<unknown, unknown>();
    for (let i = 2; i < reply.length; i += 2) moved.set(reply[i], reply[i + 1]);
    expect(moved).toEqual(new Map([0, 1, 2].map((s) => [`${c}s${s}`, 1])));
    const want = emptyState();
    applyOps(want, ops, 0); // nothing due yet
    const got = await stateOf(deps, c, want);
    expectSame(got, want, deps, c);
    // each touched stream's seq moved once for the whole batch
    for (const s of [0, 1, 2]) expect(got.hashes.get(totalsKeys.stream(`${c}s${s}`))!.seq).toBe('1');
    // the order refunded whole left no confirmation behind; the partly refunded one carries both partial reversals
    expect(got.pending.has(paid[1].orderId)).toBe(false);
    expect(got.pending.get(paid[2].orderId)).toBeDefined();
    expect(Object.keys(got.hashes.get(totalsKeys.donations)!)).toHaveLength(1200);

    // 1,199 orders still paid (one refunded whole), each with its own confirmation and its layers' (this file's namespace holds no other)
    expect(await confirmDue(deps, Date.now() + windowMs + 60_000, 5000)).toBe(2 * 1199);
    const due = emptyState();
    applyOps(due, ops, Infinity);
    expectSame(await stateOf(deps, c, due), due, deps, c);
  });

  it('when a batch sets a hash field and then increments a field of the same hash, then the increment sees the set (collected writes go first)', async () => {
    const deps = svc.deps;
    const c = `cx${Date.now().toString(36)}`;
    const k = charityKeyspace(deps, c);
    await deps.redis.set(k(totalsKeys.built), 'test');
    const h = k(totalsKeys.head(c));
    const ops = qualifyOps([['hset', 'tot:x', 'f', '10'], ['hincrby', 'tot:x', 'f', '5'], ['hset', 'tot:x', 'g', 'a'], ['hset', 'tot:x', 'g', 'b']], k);
    const payload = { c, h, before: 0, after: { seq: 1, hash: 'x', partition: 0, offset: 0 }, ops, r: [], ttl: 60 };
    const keys = [k(totalsKeys.confirm), k(totalsKeys.confirmOps), k(totalsKeys.built), k(totalsKeys.lock), h, k('tot:x')];
    expect(await deps.redis.eval(applyPlansLua, keys.length, ...keys, 'lg:test:channel', JSON.stringify(payload))).toEqual(['OK', 1]);
    expect(await deps.redis.hgetall(k('tot:x'))).toEqual({ f: '15', g: 'b' });
  });
});
