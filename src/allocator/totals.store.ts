import type Redis from 'ioredis';
import type { Deps } from '../deps';
import { donationFenOf, isOrderEvent, type LogEvent, type OrderEvent } from '../events';
import type { AllocatorHead, CharityPlan, MatchTake, PositionedEvent } from './allocate';
import { movesMoney } from './allocate';
import { applyPlansLua, confirmDueLua, takeMatchesLua } from './allocator.lua';
import { compactOps } from './compact-ops';
import { entryOps, totalsKeys, type EntryDisplay, type TotalsOp } from './totals';
import { masterOf, readEach, runIdFor, taggedKey, type Keyspace } from '../infra/redis';

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
 * Keys of one charity's allocator state, all under the charity's own hash tag `{tot:<charityId>}` (one slot on a
 * cluster, and charities spread over the masters): its totals, chain head, built marker, rebuild lock,
 * confirmations, remembered event ids, order → donation map, its agreements' layers and reservations, its sponsor
 * matches' budgets, and its PARTIALS of the totals that span charities (a stream's, a product's, a host's, a
 * stream's recent list, the names). One script never touches two charities; readers sum the partials.
 */
export const charityKeyspace = (deps: Pick<Deps, 'config'>, charityId: string): Keyspace => (...parts) => taggedKey(deps.config.redis.prefix, `tot:${charityId}`, ...parts);
/** The charities that hold a partial of a stream's totals (in the stream's own slot; a superset is harmless). */
export const streamCharitiesKey = (deps: Pick<Deps, 'config'>, streamId: string) => taggedKey(deps.config.redis.prefix, `tot:s:${streamId}`, 'charities');
/** The charities that hold a partial of a host's layers. */
export const hostCharitiesKey = (deps: Pick<Deps, 'config'>, hostId: string) => taggedKey(deps.config.redis.prefix, `tot:h:${hostId}`, 'charities');
/** Marks that this Redis holds every charity's stream and host index entries (a full rebuild wrote them); names its server. */
export const totalsIndexKey = (deps: Pick<Deps, 'config'>) => taggedKey(deps.config.redis.prefix, 'tot:index', 'built');
/** Every charity whose totals were built in this Redis (written once per charity rebuild, not per batch). */
export const builtCharitiesKey = (deps: Pick<Deps, 'config'>) => taggedKey(deps.config.redis.prefix, 'tot:index', 'charities');

/** A totals operation with its key names made full (the script is told every key it may touch). */
type QualifiedOp = (string | number | QualifiedOp[])[];
export function qualifyOps(ops: TotalsOp[], tk: Keyspace, keys?: Set<string>): QualifiedOp[] {
  // a batch's ops name a few dozen keys thousands of times: each full name built once
  const names = new Map<string, string>();
  const add = (k: string) => {
    let full = names.get(k);
    if (full === undefined) { names.set(k, (full = tk(k))); keys?.add(full); }
    return full;
  };
  const q = (list: TotalsOp[]): QualifiedOp[] => list.map((op): QualifiedOp => {
    switch (op[0]) {
      case 'hincrby': case 'hset': return [op[0], add(op[1]), op[2], op[3]];
      case 'lpush': return [op[0], add(op[1]), op[2], op[3]];
      // a confirmation's ops go as the JSON the script stores (encoded once, here, not decoded and encoded again there)
      case 'confirm': return [op[0], op[1], op[2], JSON.stringify(q(op[3]))];
      // the flag (a partial refund) travels as 1: the script folds it into a pending confirmation
      case 'unconfirm': return op[3] ? [op[0], op[1], q(op[2]), 1] : [op[0], op[1], q(op[2])];
      case 'touch': return [op[0], op[1], add(totalsKeys.stream(op[1]))];
      case 'hdel': return [op[0], add(op[1]), op[2]];
      case 'cumadd': return [op[0], add(op[1]), op[2], op[3], add(op[4]), add(op[5]), op[6], op[7], add(op[8]), op[9]];
      case 'ztrim': return [op[0], add(op[1]), add(op[2]), add(op[3]), add(op[4]), op[5]];
    }
  });
  return q(ops);
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

/** How long an allocated event id is remembered: a copy of it republished within this is known for one. */
export const ALLOCATED_TTL_SECONDS = 30 * 86400;
/**
 * The ids of a charity's allocated events, one hash per UTC day of their occurrence (a copy republished carries the
 * same time, so the same day): the apply script adds a batch's ids to a few hashes and renews their expiry, instead of
 * a key with its own expiry per event (a batch's script named 1,700 keys; 200,000 payments made 200,000 keys).
 */
export const allocatedDayKey = (deps: Pick<Deps, 'config'>, charityId: string, occurredAt: string) =>
  charityKeyspace(deps, charityId)('alloc', 'evd', new Date(occurredAt).toISOString().slice(0, 10));
/**
 * An allocated event's id as allocators before the day hashes remembered it (a key per event, under its charity's tag).
 * Still read, never written: those keys expire ALLOCATED_TTL_SECONDS after the last allocator that wrote them stopped,
 * and the read can go in a release after that.
 */
export const allocatedEventKey = (deps: Pick<Deps, 'config'>, charityId: string, eventId: string) => charityKeyspace(deps, charityId)('alloc', 'evt', eventId);

/** Event ids by the day hash that remembers them. */
function idsByDay(deps: Pick<Deps, 'config'>, charityId: string, events: Iterable<PositionedEvent>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { event } of events) {
    const k = allocatedDayKey(deps, charityId, event.occurredAt);
    (out.get(k) ?? out.set(k, []).get(k)!).push(event.eventId);
  }
  return out;
}

/** The pub/sub channel that carries {streamId, seq} after every totals change (the feed subscribes). */
export const totalsChannel = (deps: Pick<Deps, 'key'>) => deps.key('ch', 'totals');

/** The charities to check for totals built elsewhere: those built in this Redis and those the catalog knows. */
export async function knownCharities(deps: Deps): Promise<string[]> {
  const [built, catalog] = await Promise.all([
    deps.redis.smembers(builtCharitiesKey(deps)),
    // query: charities.all (the catalog's charities, a small collection; ids only)
    deps.db.collection<{ _id: string }>('charities').find({}, { projection: { _id: 1 } }).toArray(),
  ]);
  return [...new Set([...built, ...catalog.map((c) => c._id)])].sort();
}

/**
 * The charities whose totals were not built by the server that serves their tag now (never built, or a restart or
 * failover that may have dropped their last writes): one GET per charity and one INFO per master, pipelined per master.
 */
export async function staleCharities(deps: Deps, charityIds?: string[]): Promise<string[]> {
  const ids = charityIds ?? await knownCharities(deps);
  if (!ids.length) return [];
  const markers = ids.map((c) => charityKeyspace(deps, c)(totalsKeys.built));
  const nodes = await Promise.all(markers.map((k) => masterOf(deps.redis, k)));
  const runIds = new Map(await Promise.all([...new Set(nodes)].map(async (n) => [n, runIdOf(await n.info('server'))] as const)));
  const got = await readEach<string | null>(deps.redis, markers, (p, k) => p.get(k));
  return ids.filter((_, i) => { const v = got[i]; return v instanceof Error || !v || v !== runIds.get(nodes[i]); });
}

/** Whether the index and every known charity's totals were built by the server that serves them now. */
export async function totalsBuiltHere(deps: Deps): Promise<boolean> {
  const [mark, runId] = await Promise.all([deps.redis.get(totalsIndexKey(deps)), runIdFor(deps.redis, totalsIndexKey(deps))]);
  return !!mark && mark === runId && (await staleCharities(deps)).length === 0;
}

/** Thrown when Redis no longer holds some charities' totals (a lost or new Redis, a failover): the caller rebuilds those. */
export class TotalsMissing extends Error {
  constructor(message: string, readonly charityIds: string[]) { super(message); }
}
/** Thrown when a charity's chain head moved under this writer: the batch is re-planned after that charity is rebuilt. */
export class ChainConflict extends Error {
  constructor(message: string, readonly charityIds?: string[]) { super(message); }
}
/** Thrown while a rebuild holds a charity's totals: the batch waits and retries. */
export class TotalsBusy extends Error {}

export const runIdOf = (info: string) => /run_id:(\w+)/.exec(info)?.[1] ?? '';

/** Groups items by charity. */
export function byCharity<T>(items: T[], charityOf: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const t of items) { const c = charityOf(t); (out.get(c) ?? out.set(c, []).get(c)!).push(t); }
  return out;
}

/**
 * Reads the chain heads of the charities in a batch, one pipeline per charity (its own slot, so its own master),
 * together with what makes each trustworthy: totals built by the very server that holds that charity's tag now (a
 * restart or failover may have dropped its last writes, so its heads are rebuilt from the ledger, never guessed) and
 * no rebuild of it in progress. A lost master makes only the charities on it rebuild.
 */
export async function readHeads(deps: Deps, charityIds: string[]): Promise<Map<string, AllocatorHead>> {
  return (await readHeadsAndKnown(deps, charityIds, [])).heads;
}

/**
 * As readHeads, and in the same pipeline per charity which of the given events (all entering the ledger) it has
 * allocated already (the ids the apply script remembers with the head) and the sponsor-match sets their payments
 * and refunds will ask for (takeMatches): one round trip per charity for all three.
 */
export async function readHeadsAndKnown(
  deps: Deps, charityIds: string[], events: PositionedEvent[],
): Promise<{ heads: Map<string, AllocatorHead>; known: Set<string>; matchSets: MatchSets }> {
  const known = new Set<string>();
  const matchSets: MatchSets = new Map();
  const byC = byCharity(events, (pe) => pe.event.charityId);
  const rows = await Promise.all(charityIds.map(async (c) => {
    const k = charityKeyspace(deps, c);
    const mine = byC.get(c) ?? [];
    const ids = mine.map((pe) => pe.event.eventId);
    const days = [...idsByDay(deps, c, mine)];
    const sets = [...new Set(moneyMoves(mine).map((e) => matchSetKey(deps, c, e.streamId)))];
    // INFO rides in the pipeline routed by the marker's slot: it names the master that holds this charity
    const pipe = deps.redis.pipeline().get(k(totalsKeys.built)).info('server').exists(k(totalsKeys.lock)).hgetall(k(totalsKeys.head(c)));
    for (const f of sets) pipe.smembers(f);
    for (const [day, dayIds] of days) pipe.hmget(day, ...dayIds);
    if (ids.length) pipe.mget(ids.map((id) => allocatedEventKey(deps, c, id)));
    const res = (await pipe.exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    const [[, built], [, info], [, busy], [, head]] = res;
    let at = 4;
    for (const f of sets) matchSets.set(f, (res[at++][1] as string[]).sort());
    for (const [, dayIds] of days) (res[at++][1] as (string | null)[]).forEach((v, i) => { if (v !== null) known.add(dayIds[i]); });
    if (ids.length) (res[at++][1] as (string | null)[]).forEach((v, i) => { if (v !== null) known.add(ids[i]); });
    return { c, missing: !built || built !== runIdOf(info as string), busy: !!busy, head: head as Record<string, string> };
  }));
  if (rows.some((r) => r.busy)) throw new TotalsBusy(`totals of ${rows.filter((r) => r.busy).map((r) => r.c).join(', ')} are being rebuilt`);
  const missing = rows.filter((r) => r.missing).map((r) => r.c);
  if (missing.length) throw new TotalsMissing(`totals of ${missing.join(', ')} were not built by the Redis server that holds them; rebuild needed`, missing);
  const heads = new Map<string, AllocatorHead>();
  for (const { c, head: v } of rows) if (v.seq) heads.set(c, { seq: Number(v.seq), hash: v.hash, partition: Number(v.partition), offset: Number(v.offset) });
  return { heads, known, matchSets };
}

/** The payments and refunds among the events (the others take no match budget). */
const moneyMoves = (events: PositionedEvent[]): OrderEvent[] => events.flatMap(({ event: e }) => (movesMoney(e) ? [e] : []));

/** The ids of the sponsor matches of a stream and charity, sorted, by the set's key (read with the heads). */
export type MatchSets = Map<string, string[]>;
/** The set of a stream's sponsor matches for one charity (under the charity's tag). */
export const matchSetKey = (deps: Pick<Deps, 'config'>, charityId: string, streamId: string) => charityKeyspace(deps, charityId)('match', 'for', streamId, charityId);

/**
 * Takes (or gives back) sponsor match budgets for the payments and refunds of a batch, once per order: one script per
 * charity that has a match on these streams. `read`: the match sets as read with the heads (else read here first).
 */
export async function takeMatches(deps: Deps, events: PositionedEvent[], read: MatchSets = new Map()): Promise<Map<string, MatchTake[]>> {
  const out = new Map<string, MatchTake[]>();
  const parts = await Promise.all([...byCharity(moneyMoves(events), (e) => e.charityId)].map(([c, es]) => takeCharityMatches(deps, c, es, read)));
  for (const part of parts) for (const [eventId, takes] of part) out.set(eventId, takes);
  return out;
}

async function takeCharityMatches(deps: Deps, charityId: string, moving: OrderEvent[], read: MatchSets): Promise<Map<string, MatchTake[]>> {
  const tk = charityKeyspace(deps, charityId);
  const items0 = moving.map((e) => ({
    e: e.eventId, o: e.orderId, k: e.type === 'order.paid' ? 'p' : 'r', a: String(donationFenOf(e)), f: matchSetKey(deps, charityId, e.streamId),
    // refund n of an order returns its share of the match (matchShareBack), not the whole of it
    ...(e.type === 'order.refunded' && e.refundNo !== undefined && e.refundQuantity !== undefined && e.refundedQuantity !== undefined
      ? { n: e.refundNo, q: e.quantity, b: e.refundedQuantity - e.refundQuantity, r: e.refundedQuantity } : {}),
  }));
  const out = new Map<string, MatchTake[]>();
  let flat: (string | number)[] = ['STALE'];
  // the match sets are read first so the script can be told every budget it touches; a set that changed
  // in between (a new sponsor) makes the script answer STALE and the sets are read again
  for (let attempt = 0; flat[0] === 'STALE'; attempt++) {
    if (attempt === 5) throw new Error('sponsor matches kept changing; batch retried');
    const sets = [...new Set(items0.map((i) => i.f))];
    // the first attempt uses the sets read with the heads where it has them (the script checks they did not change)
    const members = new Map(await Promise.all(sets.map(async (f) => [f, (attempt === 0 ? read.get(f) : undefined) ?? (await deps.redis.smembers(f)).sort()] as const)));
    // no sponsor match on any of these streams when read: nothing to take, no script (a match created after this
    // read applies from the next batch on, as if it had been created a moment later)
    if ([...members.values()].every((ids) => ids.length === 0)) return out;
    const keys = new Set<string>(sets);
    const items = items0.map((i) => {
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

/** The streams and hosts whose totals a charity's plan moves (their partials are under the charity's tag). */
function partialsOf(p: CharityPlan): { streams: Set<string>; hosts: Set<string> } {
  const streams = new Set<string>();
  const hosts = new Set<string>();
  for (const e of p.entries) {
    if (e.streamId) streams.add(e.streamId);
    for (const s of Object.keys(e.remit?.byStream ?? {})) streams.add(s);
    if (e.hostId) hosts.add(e.hostId);
  }
  return { streams, hosts };
}

/**
 * Records which charities hold partials of these streams and hosts, before the scripts write them (idempotent): in each
 * stream's and host's own slot (what readers ask) and, as a copy, in the charity's slot. The copy sits on the master
 * that holds the partials and is written before them, so whenever a partial survived a failover its copy did too;
 * `reindexPartials` puts back an entry that a failover of the stream's or host's master dropped.
 */
async function indexPartials(deps: Deps, charityId: string, parts: { streams: Set<string>; hosts: Set<string> }): Promise<void> {
  const tk = charityKeyspace(deps, charityId);
  const byClient = indexedBy(deps);
  const indexed = byClient.get(charityId) ?? byClient.set(charityId, new Map()).get(charityId)!;
  const now = Date.now();
  const due = (key: string) => (indexed.get(key) ?? 0) <= now;
  const streams = [...parts.streams].filter((s) => due(`s:${s}`));
  const hosts = [...parts.hosts].filter((h) => due(`h:${h}`));
  if (!streams.length && !hosts.length) return;
  if (indexed.size > 1_000) for (const [k, until] of indexed) if (until <= now) indexed.delete(k);
  await Promise.all([
    ...(streams.length ? [deps.redis.sadd(tk(totalsKeys.partialStreams), ...streams)] : []),
    ...(hosts.length ? [deps.redis.sadd(tk(totalsKeys.partialHosts), ...hosts)] : []),
    ...streams.map((s) => deps.redis.sadd(streamCharitiesKey(deps, s), charityId)),
    ...hosts.map((h) => deps.redis.sadd(hostCharitiesKey(deps, h), charityId)),
  ]);
  for (const s of streams) indexed.set(`s:${s}`, now + INDEXED_FOR_MS);
  for (const h of hosts) indexed.set(`h:${h}`, now + INDEXED_FOR_MS);
}

/**
 * How long a process takes the index entries it wrote as still there. They were written again before every script,
 * four commands per charity a batch (most of the allocator's Redis calls at live rates); a failover of a stream's or
 * host's master that drops one is put right by recovery's reindexPartials, and at the latest this long after by
 * the next batch that moves that partial. A charity's rebuild, or a script that found its state not as planned,
 * forgets its entries at once.
 */
export const INDEXED_FOR_MS = 10_000;
/** Per Redis client, per charity: until when each of its index entries (`s:<stream>`, `h:<host>`) is taken as written. */
const indexedByClient = new WeakMap<object, Map<string, Map<string, number>>>();
const indexedBy = (deps: Pick<Deps, 'redis'>): Map<string, Map<string, number>> => {
  let m = indexedByClient.get(deps.redis);
  if (!m) indexedByClient.set(deps.redis, (m = new Map()));
  return m;
};

/** Forgets the index entries this process wrote for these charities: the next script writes them again. */
export function forgetIndexed(deps: Pick<Deps, 'redis'>, charityIds: string[]): void {
  const byClient = indexedBy(deps);
  for (const c of charityIds) byClient.delete(c);
}

/**
 * Writes again, from each charity's own copy, the index entries by which readers find its partials of streams and
 * hosts. Run after a partial loss (a failover of one master drops its last writes, which may include an entry in a
 * stream's or host's slot while the charity's own slot, on another master, kept its partial). Idempotent.
 */
export async function reindexPartials(deps: Deps, charityIds?: string[]): Promise<number> {
  const ids = charityIds ?? await knownCharities(deps);
  let n = 0;
  for (const c of ids) {
    const tk = charityKeyspace(deps, c);
    const [streams, hosts] = await Promise.all([deps.redis.smembers(tk(totalsKeys.partialStreams)), deps.redis.smembers(tk(totalsKeys.partialHosts))]);
    await Promise.all([...streams.map((s) => deps.redis.sadd(streamCharitiesKey(deps, s), c)), ...hosts.map((h) => deps.redis.sadd(hostCharitiesKey(deps, h), c))]);
    n += streams.length + hosts.length;
  }
  return n;
}

/**
 * Folds planned entries into the totals and moves the chain heads: one script per charity plan (each all or nothing
 * under its head's compare-and-set, in its own slot), run concurrently. A crash between two charities' scripts is
 * safe: the retry re-reads the heads, and a charity whose head already moved has its entries folded in once.
 *
 * Then ONE notification per stream the batch moved, not one per charity script: a batch's scripts finish a few ms
 * apart, and the feed read the first notification's totals before the last script ran, then sent a second frame
 * for the rest (a trace of one stream at 150 orders/s: 14 notification bursts a second for at most 10 frames, the
 * frame after a split one waiting 50–80 ms for its slot). A crash between the scripts and this publish loses the
 * notification, not the totals: the feed re-reads every watched stream every few seconds (FeedHub).
 */
export async function applyPlans(deps: Deps, plans: CharityPlan[]): Promise<number> {
  const windowMs = deps.config.orders.refundWindowSeconds * 1000;
  const results = await Promise.allSettled(plans.map((p) => applyPlan(deps, p, windowMs, '')));
  await notifyMoved(deps, results.flatMap((r) => (r.status === 'fulfilled' && r.value[0] === 'OK' ? [r.value.slice(2)] : [])));
  const failed = (kind: string) => results.flatMap((r, i) => (r.status === 'fulfilled' && r.value[0] === kind ? [plans[i].charityId] : []));
  // a charity whose state was not as planned (being rebuilt, lost, moved) writes its index entries again next time
  forgetIndexed(deps, results.flatMap((r, i) => (r.status === 'fulfilled' && r.value[0] === 'OK' ? [] : [plans[i].charityId])));
  const error = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (error) throw error.reason;
  if (failed('REBUILD').length) throw new TotalsMissing(`totals of ${failed('REBUILD').join(', ')} are not in Redis; rebuild needed`, failed('REBUILD'));
  if (failed('CONFLICT').length) throw new ChainConflict(`chain head of ${failed('CONFLICT').join(', ')} moved`, failed('CONFLICT'));
  if (failed('BUSY').length) throw new TotalsBusy(`totals of ${failed('BUSY').join(', ')} are being rebuilt`);
  return results.reduce((n, r) => n + (r.status === 'fulfilled' ? Number(r.value[1] ?? 0) : 0), 0);
}

/**
 * Publishes each stream once with the highest partial seq the scripts moved it to (readers sum the partials: the seq
 * only tells a subscriber that something moved). Even if a script after the first failed: what went through is shown.
 */
async function notifyMoved(deps: Deps, moved: unknown[][]): Promise<void> {
  const seqs = new Map<string, number>();
  for (const list of moved) {
    for (let i = 0; i + 1 < list.length; i += 2) seqs.set(String(list[i]), Math.max(seqs.get(String(list[i])) ?? 0, Number(list[i + 1])));
  }
  await Promise.all([...seqs].map(([streamId, seq]) => deps.redis.publish(totalsChannel(deps), JSON.stringify({ streamId, seq }))));
}

/**
 * One charity's plan: the index entries of its partials first, then its script, answering OK (applied 0, or 1 and the
 * streams it moved: streamId, seq, …), REBUILD, BUSY or CONFLICT. The script publishes each stream it moves unless
 * `channel` is '' (applyPlans publishes once for all of a batch's charities).
 */
export async function applyPlan(deps: Deps, p: CharityPlan, windowMs = deps.config.orders.refundWindowSeconds * 1000, channel = totalsChannel(deps)): Promise<[string, ...unknown[]]> {
  await indexPartials(deps, p.charityId, partialsOf(p));
  const tk = charityKeyspace(deps, p.charityId);
  const h = tk(totalsKeys.head(p.charityId));
  const keys = new Set<string>([tk(totalsKeys.confirm), tk(totalsKeys.confirmOps), tk(totalsKeys.built), tk(totalsKeys.lock), h]);
  // folded per charity plan (each plan is applied all or nothing): one HINCRBY per field, not per entry
  const ops = qualifyOps(compactOps(p.entries.flatMap((e) => entryOps(e, displayOf(p.sources.get(e.key)!.event), windowMs))), tk, keys);
  // the plan's events, remembered in the same script by the day they occurred (readHeadsAndKnown reads them for the next batches)
  const remembered = [...idsByDay(deps, p.charityId, new Set(p.sources.values()))].map(([day, ids]) => [day, ...new Set(ids)]);
  for (const [day] of remembered) keys.add(day);
  const payload = { c: p.charityId, h, before: p.before.seq, after: p.after, ops, r: remembered, ttl: ALLOCATED_TTL_SECONDS };
  return scripted(deps.redis).lgApplyPlans(keys.size, ...keys, channel, JSON.stringify(payload));
}

/** Moves donations past the refund window into the confirmed layer, charity by charity; answers how many. */
export async function confirmDue(deps: Deps, nowMs = Date.now(), limit = 1000): Promise<number> {
  const charities = await deps.redis.smembers(builtCharitiesKey(deps));
  const due = await readEach<string[]>(deps.redis, charities.map((c) => charityKeyspace(deps, c)(totalsKeys.confirm)), (p, k) => p.zrangebyscore(k, '-inf', nowMs, 'LIMIT', 0, limit));
  const n = await Promise.all(charities.map((c, i) => {
    const members = due[i];
    return members instanceof Error || !members.length ? 0 : confirmCharity(deps, c, members, nowMs);
  }));
  return n.reduce((a, b) => a + b, 0);
}

async function confirmCharity(deps: Deps, charityId: string, due: string[], nowMs: number): Promise<number> {
  const tk = charityKeyspace(deps, charityId);
  // the stored operations name their keys: read them first, so the script is told every key it touches
  const stored = await deps.redis.hmget(tk(totalsKeys.confirmOps), ...due);
  const keys = new Set<string>([tk(totalsKeys.confirm), tk(totalsKeys.confirmOps)]);
  for (const ops of stored) if (ops) keysOf(JSON.parse(ops) as QualifiedOp[], keys);
  return scripted(deps.redis).lgConfirmDue(keys.size, ...keys, totalsChannel(deps), String(nowMs), ...due);
}
