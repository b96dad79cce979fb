import type Redis from 'ioredis';
import type { Deps } from '../deps';
import type { OrderEvent, StreamTotals } from '../events';
import { DomainError } from '../infra/errors';
import type { AllocatorHead, CharityPlan, MatchTake, PositionedEvent } from './allocate';
import { movesMoney } from './allocate';
import { applyPlansLua, confirmDueLua, takeMatchesLua } from './allocator.lua';
import { entryOps, shapeStreamTotals, totalsKeys, type EntryDisplay } from './totals';

type Scripted = Redis & {
  lgApplyPlans(...args: string[]): Promise<[string, ...unknown[]]>;
  lgConfirmDue(...args: string[]): Promise<number>;
  lgTakeMatches(...args: string[]): Promise<(string | number)[]>;
};

function scripted(redis: Redis): Scripted {
  const r = redis as Scripted;
  if (typeof r.lgApplyPlans !== 'function') {
    redis.defineCommand('lgApplyPlans', { numberOfKeys: 0, lua: applyPlansLua });
    redis.defineCommand('lgConfirmDue', { numberOfKeys: 0, lua: confirmDueLua });
    redis.defineCommand('lgTakeMatches', { numberOfKeys: 0, lua: takeMatchesLua });
  }
  return r;
}

/** The pub/sub channel that carries {streamId, seq} after every totals change (the feed subscribes). */
export const totalsChannel = (deps: Pick<Deps, 'key'>) => deps.key('ch', 'totals');

/** Thrown when Redis no longer holds the totals (a lost or new Redis): the caller rebuilds them. */
export class TotalsMissing extends Error {}
/** Thrown when a charity's chain head moved under this writer: the batch is re-planned. */
export class ChainConflict extends Error {}
/** Thrown while a rebuild holds the totals: the batch waits and retries. */
export class TotalsBusy extends Error {}

export const runIdOf = (info: string) => /run_id:(\w+)/.exec(info)?.[1] ?? '';

/**
 * Reads the chain heads of the charities in a batch, in one pipeline on one connection, together with
 * what makes them trustworthy: totals built by this very Redis server (a restart may have dropped the
 * last second of writes, so heads from before it are rebuilt from the ledger, never guessed) and no
 * rebuild in progress.
 */
export async function readHeads(deps: Deps, charityIds: string[]): Promise<Map<string, AllocatorHead>> {
  const pipe = deps.redis.pipeline().info('server').get(deps.key(totalsKeys.built)).exists(deps.key(totalsKeys.lock));
  for (const id of charityIds) pipe.hgetall(deps.key(totalsKeys.head(id)));
  const res = (await pipe.exec()) ?? [];
  for (const [err] of res) if (err) throw err;
  const [[, info], [, built], [, busy], ...rows] = res;
  if (busy) throw new TotalsBusy('totals are being rebuilt');
  if (!built || built !== runIdOf(info as string)) throw new TotalsMissing('totals were not built by this Redis server; rebuild needed');
  const heads = new Map<string, AllocatorHead>();
  rows.forEach(([, h], i) => {
    const v = h as Record<string, string>;
    if (v.seq) heads.set(charityIds[i], { seq: Number(v.seq), hash: v.hash, partition: Number(v.partition), offset: Number(v.offset) });
  });
  return heads;
}

/** Takes (or gives back) sponsor match budgets for the payments and refunds of a batch, once per order. */
export async function takeMatches(deps: Deps, events: PositionedEvent[]): Promise<Map<string, MatchTake[]>> {
  const items = events.filter((p) => movesMoney(p.event)).map(({ event: e }) => ({
    e: e.eventId, o: e.orderId, s: e.streamId, c: e.charityId, k: e.type === 'order.paid' ? 'p' : 'r', a: String(e.pledgeTotalFen),
    // refund n of an order returns its share of the match (matchShareBack), not the whole of it
    ...(e.type === 'order.refunded' && e.refundNo !== undefined && e.refundQuantity !== undefined && e.refundedQuantity !== undefined
      ? { n: e.refundNo, q: e.quantity, b: e.refundedQuantity - e.refundQuantity, r: e.refundedQuantity } : {}),
  }));
  const out = new Map<string, MatchTake[]>();
  if (!items.length) return out;
  const flat = await scripted(deps.redis).lgTakeMatches(deps.key(''), JSON.stringify(items));
  for (let i = 0; i < flat.length; i += 4) {
    const list = out.get(String(flat[i])) ?? out.set(String(flat[i]), []).get(String(flat[i]))!;
    list.push({ matchId: String(flat[i + 1]), amountFen: Number(flat[i + 2]), wantFen: Number(flat[i + 3]) });
  }
  return out;
}

export const displayOf = (e: OrderEvent): EntryDisplay => ({
  charityName: e.charityName, productName: e.productName, buyer: e.buyerMasked,
  ...(e.type === 'order.refunded' && e.refundedQuantity !== undefined && e.refundedQuantity < e.quantity ? { partialRefund: true } : {}),
});

/** Folds planned entries into the totals and moves the chain heads, atomically, once per entry. */
export async function applyPlans(deps: Deps, plans: CharityPlan[]): Promise<number> {
  const windowMs = deps.config.orders.refundWindowSeconds * 1000;
  const payload = plans.map((p) => ({
    c: p.charityId, before: p.before.seq, after: p.after,
    ops: p.entries.flatMap((e) => entryOps(e, displayOf(p.sources.get(e.key)!.event), windowMs)),
  }));
  const r = await scripted(deps.redis).lgApplyPlans(deps.key(''), totalsChannel(deps), JSON.stringify(payload));
  if (r[0] === 'REBUILD') throw new TotalsMissing('totals are not in Redis; rebuild needed');
  if (r[0] === 'BUSY') throw new TotalsBusy('totals are being rebuilt');
  if (r[0] === 'CONFLICT') throw new ChainConflict(`chain head of ${String(r[1])} moved`);
  return Number(r[1]);
}

/** Moves donations past the refund window into the confirmed layer; answers how many. */
export async function confirmDue(deps: Deps, nowMs = Date.now(), limit = 1000): Promise<number> {
  return scripted(deps.redis).lgConfirmDue(deps.key(''), totalsChannel(deps), String(nowMs), String(limit));
}

/** The totals of one stream as `GET /api/v1/streams/:id/totals` answers them; null for an unknown stream. */
export async function readStreamTotals(deps: Deps, streamId: string): Promise<StreamTotals | null> {
  const stream = await streamState(deps, streamId);
  if (!stream) return null;
  const [h, names, recent, matchIds] = await Promise.all([
    deps.redis.hgetall(deps.key(totalsKeys.stream(streamId))),
    deps.redis.hgetall(deps.key(totalsKeys.names)),
    deps.redis.lrange(deps.key(totalsKeys.recent(streamId)), 0, -1),
    deps.redis.smembers(deps.key('match', 'stream', streamId)),
  ]);
  const pipe = deps.redis.pipeline();
  for (const id of matchIds.sort()) pipe.hgetall(deps.key('match', id));
  const matches = ((await pipe.exec()) ?? []).map(([, m], i) => {
    const v = m as Record<string, string>;
    const capFen = Number(v.capFen);
    return { matchId: matchIds[i], sponsorName: v.sponsorName, charityId: v.charityId, ratioPercent: Number(v.ratioPercent), capFen, matchedFen: capFen - Number(v.remainingFen), remainingFen: Number(v.remainingFen) };
  });
  return shapeStreamTotals(streamId, { status: stream.status, goalFen: stream.goalFen ?? 0 }, h, names, recent, matches);
}

/** A stream's status and goal: the catalog's Redis copy, else MongoDB (the copy may be rebuilding). */
async function streamState(deps: Deps, streamId: string): Promise<{ status: string; goalFen: number } | null> {
  const cached = await deps.redis.hgetall(deps.key('stream', streamId));
  if (cached.status) return { status: cached.status, goalFen: Number(cached.goalFen ?? 0) };
  return deps.db.collection<{ _id: string; status: string; goalFen: number }>('streams').findOne({ _id: streamId }, { projection: { status: 1, goalFen: 1 } });
}

/** Running totals of one charity (pledged, matched, confirmed), straight from Redis. */
export async function readCharityTotals(deps: Deps, charityId: string): Promise<Record<string, number>> {
  const h = await deps.redis.hgetall(deps.key(totalsKeys.charity(charityId)));
  return Object.fromEntries(['donationFen', 'matchedFen', 'confirmedDonationFen', 'salesFen', 'units', 'orders', 'entries', 'balanceFen'].map((f) => [f, Number(h[f] ?? 0)]));
}

/** An order's donation as the allocator last recorded it (one Redis read, no ledger scan). */
export async function donationOf(deps: Deps, orderId: string): Promise<{ status: 'pending' | 'allocated' | 'reversed'; entrySeq?: number }> {
  const v = await deps.redis.hget(deps.key(totalsKeys.donations), orderId);
  if (!v) return { status: 'pending' };
  const [status, seq] = v.split(':');
  return { status: status as 'allocated' | 'reversed', entrySeq: Number(seq) };
}

/** Refuses to serve totals while they are being rebuilt (they would be partial). */
export async function assertTotalsReady(deps: Deps): Promise<void> {
  const [built, lock] = await Promise.all([deps.redis.exists(deps.key(totalsKeys.built)), deps.redis.exists(deps.key(totalsKeys.lock))]);
  if (!built || lock) throw new DomainError('UNAVAILABLE', 'totals are being rebuilt; retry shortly', undefined, 2);
}
