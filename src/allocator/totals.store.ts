import type Redis from 'ioredis';
import type { Deps } from '../deps';
import { donationFenOf, isOrderEvent, type LogEvent, type StreamTotals } from '../events';
import { DomainError } from '../infra/errors';
import { shardKeys, shardOf } from '../infra/shards';
import type { AllocatorHead, CharityPlan, MatchTake, PositionedEvent } from './allocate';
import { movesMoney } from './allocate';
import { applyPlansLua, confirmDueLua, takeMatchesLua } from './allocator.lua';
import { compactOps } from './compact-ops';
import { entryOps, shapeStreamTotals, totalsKeys, type EntryDisplay, type TotalsOp } from './totals';
import { runIdFor, taggedKey, type Keyspace } from '../infra/redis';

type Scripted = Redis & {
  lgApplyPlans(numKeys: number, ...args: string[]): Promise<[string, ...unknown[]]>;
  lgConfirmDue(numKeys: number, ...args: string[]): Promise<number>;
  lgTakeMatches(numKeys: number, ...args: string[]): Promise<(string | number)[]>;
};

/** The scripts take a variable number of KEYS (the count comes first, as EVALSHA's). */
function scripted(redis: Redis): Scripted {
  const r = redis as Scripted;
  if (typeof r.lgApplyPlans !== 'function') {
    redis.defineCommand('lgApplyPlans', { lua: applyPlansLua });
    redis.defineCommand('lgConfirmDue', { lua: confirmDueLua });
    redis.defineCommand('lgTakeMatches', { lua: takeMatchesLua });
  }
  return r;
}

/**
 * Keys of the totals, chain heads and match budgets: one hash tag ({tot}, one slot on a cluster), since
 * one ledger batch moves several streams', charities' and products' totals in one script.
 */
export const totalsKeyspace = (deps: Pick<Deps, 'config'>): Keyspace => (...parts) => taggedKey(deps.config.redis.prefix, 'tot', ...parts);

/** A totals operation with its key names made full (the script is told every key it may touch). */
type QualifiedOp = (string | number | QualifiedOp[])[];
export function qualifyOps(ops: TotalsOp[], tk: Keyspace, keys?: Set<string>): QualifiedOp[] {
  const add = (k: string) => { keys?.add(k); return k; };
  return ops.map((op): QualifiedOp => {
    switch (op[0]) {
      case 'hincrby': case 'hset': return [op[0], add(tk(op[1])), op[2], op[3]];
      case 'lpush': return [op[0], add(tk(op[1])), op[2], op[3]];
      case 'confirm': return [op[0], op[1], op[2], qualifyOps(op[3], tk, keys)];
      // the flag (a partial refund) travels as 1: the script folds it into a pending confirmation
      case 'unconfirm': return op[3] ? [op[0], op[1], qualifyOps(op[2], tk, keys), 1] : [op[0], op[1], qualifyOps(op[2], tk, keys)];
      case 'touch': return [op[0], op[1], add(tk(totalsKeys.stream(op[1])))];
      case 'hdel': return [op[0], add(tk(op[1])), op[2]];
      case 'cumadd': return [op[0], add(tk(op[1])), op[2], op[3], add(tk(op[4])), add(tk(op[5])), op[6], op[7], add(tk(op[8])), op[9]];
      case 'ztrim': return [op[0], add(tk(op[1])), add(tk(op[2])), add(tk(op[3])), add(tk(op[4])), op[5]];
    }
  });
}

/** Every key named in stored (already qualified) operations. */
function keysOf(ops: QualifiedOp[], into: Set<string>): void {
  for (const op of ops) {
    if (op[0] === 'hincrby' || op[0] === 'hset' || op[0] === 'lpush') into.add(String(op[1]));
    else if (op[0] === 'confirm') keysOf(op[3] as QualifiedOp[], into);
    else if (op[0] === 'unconfirm') keysOf(op[2] as QualifiedOp[], into);
    else if (op[0] === 'touch') into.add(String(op[2]));
    else if (op[0] === 'hdel') into.add(String(op[1]));
    else if (op[0] === 'cumadd') { into.add(String(op[1])); into.add(String(op[4])); into.add(String(op[5])); into.add(String(op[8])); }
    else if (op[0] === 'ztrim') for (const i of [1, 2, 3, 4]) into.add(String(op[i]));
  }
}

/** The pub/sub channel that carries {streamId, seq} after every totals change (the feed subscribes). */
export const totalsChannel = (deps: Pick<Deps, 'key'>) => deps.key('ch', 'totals');

/** Whether the totals were built by the server that serves them now (a restart or failover may have dropped writes). */
export async function totalsBuiltHere(deps: Deps): Promise<boolean> {
  const built = totalsKeyspace(deps)(totalsKeys.built);
  const [mark, runId] = await Promise.all([deps.redis.get(built), runIdFor(deps.redis, built)]);
  return !!mark && mark === runId;
}

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
  const tk = totalsKeyspace(deps);
  // one slot, so one pipeline to the one master that holds it (INFO included: it names that server)
  const pipe = deps.redis.pipeline().get(tk(totalsKeys.built)).info('server').exists(tk(totalsKeys.lock));
  for (const id of charityIds) pipe.hgetall(tk(totalsKeys.head(id)));
  const res = (await pipe.exec()) ?? [];
  for (const [err] of res) if (err) throw err;
  const [[, built], [, info], [, busy], ...rows] = res;
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
  const tk = totalsKeyspace(deps);
  const moving = events.flatMap(({ event: e }) => (movesMoney(e) ? [e] : [])).map((e) => ({
    e: e.eventId, o: e.orderId, k: e.type === 'order.paid' ? 'p' : 'r', a: String(donationFenOf(e)), f: tk('match', 'for', e.streamId, e.charityId),
    // refund n of an order returns its share of the match (matchShareBack), not the whole of it
    ...(e.type === 'order.refunded' && e.refundNo !== undefined && e.refundQuantity !== undefined && e.refundedQuantity !== undefined
      ? { n: e.refundNo, q: e.quantity, b: e.refundedQuantity - e.refundQuantity, r: e.refundedQuantity } : {}),
  }));
  const out = new Map<string, MatchTake[]>();
  if (!moving.length) return out;
  let flat: (string | number)[] = ['STALE'];
  // the match sets are read first so the script can be told every budget it touches; a set that changed
  // in between (a new sponsor) makes the script answer STALE and the sets are read again
  for (let attempt = 0; flat[0] === 'STALE'; attempt++) {
    if (attempt === 5) throw new Error('sponsor matches kept changing; batch retried');
    const sets = [...new Set(moving.map((i) => i.f))];
    const members = new Map(await Promise.all(sets.map(async (f) => [f, (await deps.redis.smembers(f)).sort()] as const)));
    // no sponsor match on any of these streams when read: nothing to take, no script (a match created after this
    // read applies from the next batch on, as if it had been created a moment later)
    if ([...members.values()].every((ids) => ids.length === 0)) return out;
    const keys = new Set<string>(sets);
    const items = moving.map((i) => {
      const ids = members.get(i.f)!;
      const m = ids.map((id) => ({ b: tk('match', id), t: tk('match', id, 'taken'), r: tk('match', id, 'returned') }));
      for (const x of m) { keys.add(x.b); keys.add(x.t); keys.add(x.r); }
      return { ...i, ids, m };
    });
    flat = await scripted(deps.redis).lgTakeMatches(keys.size, ...keys, JSON.stringify(items));
  }
  for (let i = 0; i < flat.length; i += 4) {
    const list = out.get(String(flat[i])) ?? out.set(String(flat[i]), []).get(String(flat[i]))!;
    list.push({ matchId: String(flat[i + 1]), amountFen: Number(flat[i + 2]), wantFen: Number(flat[i + 3]) });
  }
  return out;
}

export const displayOf = (e: LogEvent): EntryDisplay => !isOrderEvent(e) ? { charityName: '', productName: '', buyer: '' } : ({
  charityName: e.charityName, productName: e.productName, buyer: e.buyerMasked,
  ...(e.type === 'order.refunded' && e.refundedQuantity !== undefined && e.refundedQuantity < e.quantity ? { partialRefund: true } : {}),
});

/** Folds planned entries into the totals and moves the chain heads, atomically, once per entry. */
export async function applyPlans(deps: Deps, plans: CharityPlan[]): Promise<number> {
  const windowMs = deps.config.orders.refundWindowSeconds * 1000;
  const tk = totalsKeyspace(deps);
  const keys = new Set<string>([tk(totalsKeys.confirm), tk(totalsKeys.confirmOps), tk(totalsKeys.built), tk(totalsKeys.lock)]);
  const payload = plans.map((p) => {
    const h = tk(totalsKeys.head(p.charityId));
    keys.add(h);
    // folded per charity plan (each plan is applied all or nothing): one HINCRBY per field, not per entry
    const ops = qualifyOps(compactOps(p.entries.flatMap((e) => entryOps(e, displayOf(p.sources.get(e.key)!.event), windowMs))), tk, keys);
    return { c: p.charityId, h, before: p.before.seq, after: p.after, ops };
  });
  const r = await scripted(deps.redis).lgApplyPlans(keys.size, ...keys, totalsChannel(deps), JSON.stringify(payload));
  if (r[0] === 'REBUILD') throw new TotalsMissing('totals are not in Redis; rebuild needed');
  if (r[0] === 'BUSY') throw new TotalsBusy('totals are being rebuilt');
  if (r[0] === 'CONFLICT') throw new ChainConflict(`chain head of ${String(r[1])} moved`);
  return Number(r[1]);
}

/** Moves donations past the refund window into the confirmed layer; answers how many. */
export async function confirmDue(deps: Deps, nowMs = Date.now(), limit = 1000): Promise<number> {
  const tk = totalsKeyspace(deps);
  const due = await deps.redis.zrangebyscore(tk(totalsKeys.confirm), '-inf', nowMs, 'LIMIT', 0, limit);
  if (!due.length) return 0;
  // the stored operations name their keys: read them first, so the script is told every key it touches
  const stored = await deps.redis.hmget(tk(totalsKeys.confirmOps), ...due);
  const keys = new Set<string>([tk(totalsKeys.confirm), tk(totalsKeys.confirmOps)]);
  for (const ops of stored) if (ops) keysOf(JSON.parse(ops) as QualifiedOp[], keys);
  return scripted(deps.redis).lgConfirmDue(keys.size, ...keys, totalsChannel(deps), String(nowMs), ...due);
}

/** The totals of one stream as `GET /api/v1/streams/:id/totals` answers them; null for an unknown stream. */
export async function readStreamTotals(deps: Deps, streamId: string): Promise<StreamTotals | null> {
  const stream = await streamState(deps, streamId);
  if (!stream) return null;
  const tk = totalsKeyspace(deps);
  const [h, names, recent, matchIds] = await Promise.all([
    deps.redis.hgetall(tk(totalsKeys.stream(streamId))),
    deps.redis.hgetall(tk(totalsKeys.names)),
    deps.redis.lrange(tk(totalsKeys.recent(streamId)), 0, -1),
    deps.redis.smembers(tk('match', 'stream', streamId)),
  ]);
  const pipe = deps.redis.pipeline();
  for (const id of matchIds.sort()) pipe.hgetall(tk('match', id));
  const matches = ((await pipe.exec()) ?? []).map(([, m], i) => {
    const v = m as Record<string, string>;
    const capFen = Number(v.capFen);
    return { matchId: matchIds[i], sponsorName: v.sponsorName, charityId: v.charityId, ratioPercent: Number(v.ratioPercent), capFen, matchedFen: capFen - Number(v.remainingFen), remainingFen: Number(v.remainingFen) };
  });
  return shapeStreamTotals(streamId, { status: stream.status, goalFen: stream.goalFen ?? 0 }, h, names, recent, matches);
}

/** A stream's status and goal: the catalog's Redis copy, else MongoDB (the copy may be rebuilding). */
async function streamState(deps: Deps, streamId: string): Promise<{ status: string; goalFen: number } | null> {
  const cached = await deps.redis.hgetall(shardKeys(deps.config.redis.prefix, shardOf(streamId)).stream(streamId));
  if (cached.status) return { status: cached.status, goalFen: Number(cached.goalFen ?? 0) };
  return deps.db.collection<{ _id: string; status: string; goalFen: number }>('streams').findOne({ _id: streamId }, { projection: { status: 1, goalFen: 1 } });
}

/** Running totals of one charity (pledged, matched, confirmed), straight from Redis. */
export async function readCharityTotals(deps: Deps, charityId: string): Promise<Record<string, number>> {
  const h = await deps.redis.hgetall(totalsKeyspace(deps)(totalsKeys.charity(charityId)));
  return Object.fromEntries(['donationFen', 'matchedFen', 'confirmedDonationFen', 'salesFen', 'units', 'orders', 'entries', 'balanceFen'].map((f) => [f, Number(h[f] ?? 0)]));
}

/** An order's donation as the allocator last recorded it (one Redis read, no ledger scan). */
export async function donationOf(deps: Deps, orderId: string): Promise<{ status: 'pending' | 'allocated' | 'reversed'; entrySeq?: number }> {
  const v = await deps.redis.hget(totalsKeyspace(deps)(totalsKeys.donations), orderId);
  if (!v) return { status: 'pending' };
  const [status, seq] = v.split(':');
  return { status: status as 'allocated' | 'reversed', entrySeq: Number(seq) };
}

/** Refuses to serve totals while they are being rebuilt (they would be partial). */
export async function assertTotalsReady(deps: Deps): Promise<void> {
  const tk = totalsKeyspace(deps);
  const [built, lock] = await Promise.all([deps.redis.exists(tk(totalsKeys.built)), deps.redis.exists(tk(totalsKeys.lock))]);
  if (!built || lock) throw new DomainError('UNAVAILABLE', 'totals are being rebuilt; retry shortly', undefined, 2);
}
