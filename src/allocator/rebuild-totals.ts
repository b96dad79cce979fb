import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import { verifyChain } from './chain';
import { activateMatch, MATCH_COLLECTION, type MatchDoc } from './create-match';
import { LEDGER_COLLECTION, readBlocks, toEntry, type LedgerDoc } from './ledger.repository';
import { blockKeyOf, GENESIS, type ChainHead, type LedgerEntry } from './ledger.types';
import { applyOps, emptyState, entryOps, totalsKeys, type EntryDisplay } from './totals';
import { builtCharitiesKey, charityKeyspace, forgetIndexed, hostCharitiesKey, knownCharities, qualifyOps, reindexPartials, staleCharities, streamCharitiesKey, totalsChannel, totalsIndexKey } from './totals.store';
import { runIdFor } from '../infra/redis';

const LOCK_MS = 120_000;
const releaseLua = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
/** Fields or members written per command: a large charity's donations map goes in pieces, never one huge command. */
const CHUNK = 1000;

export interface RebuildReport { entries: number; charities: number; streams: number; chainProblems: number; ms: number; scanMs?: number; waited?: boolean }

type Stored = LedgerEntry & EntryDisplay & { partition: number; offset: number };

/**
 * Recomputes running totals, chain heads and match budgets from the ledger, charity by charity, and replaces what
 * Redis holds for each (only its own keys, by name: never a SCAN of the keyspace). Each charity is rebuilt under its
 * own lock, from its own chain read block by block (an equality read per block, never the whole ledger in memory);
 * its allocators wait (their script answers BUSY) and readers of its streams get 503 meanwhile. Without a list,
 * every charity the ledger, the catalog or this Redis knows (`livegive rebuild-totals`, a Redis that lost everything).
 */
export async function rebuildTotals(deps: Deps, charityIds?: string[], now = Date.now()): Promise<RebuildReport> {
  const t0 = Date.now();
  const all = !charityIds;
  const ids = charityIds ?? await everyCharity(deps);
  const report: RebuildReport = { entries: 0, charities: 0, streams: 0, chainProblems: 0, ms: 0, scanMs: 0 };
  const streams = new Set<string>();
  let waited = false;
  for (const c of [...new Set(ids)]) {
    const r = await rebuildCharity(deps, c, now);
    if (r.waited) { waited = true; continue; }
    report.entries += r.entries;
    report.chainProblems += r.chainProblems;
    report.scanMs = (report.scanMs ?? 0) + r.scanMs;
    report.charities++;
    for (const s of r.streams) streams.add(s);
  }
  // the index marker says that this Redis holds every charity's stream and host index entries (a full rebuild wrote them)
  if (all) await deps.redis.set(totalsIndexKey(deps), await runIdFor(deps.redis, totalsIndexKey(deps)));
  Object.assign(report, { streams: streams.size, ms: Date.now() - t0 }, waited ? { waited } : {});
  if (report.charities || !waited) deps.logger.info(report, 'totals rebuilt from the ledger');
  return report;
}

/**
 * What an allocator runs at start and recovery after a partial loss: every charity if the index was not built by
 * the server that holds it now (a new or emptied Redis, or the layout before per-charity tags), else only the
 * charities whose own slot's server changed or that were never built.
 */
export async function rebuildStaleTotals(deps: Deps, now = Date.now()): Promise<RebuildReport> {
  const [mark, runId] = await Promise.all([deps.redis.get(totalsIndexKey(deps)), runIdFor(deps.redis, totalsIndexKey(deps))]);
  if (!mark || mark !== runId) return rebuildTotals(deps, undefined, now);
  const stale = await staleCharities(deps);
  const report = await rebuildTotals(deps, stale, now);
  // the others kept their partials, but a stream's or host's own slot (maybe on the master that failed over) may have
  // lost the entry that points readers at them
  const others = (await knownCharities(deps)).filter((c) => !stale.includes(c));
  await reindexPartials(deps, others);
  return report;
}

/** Every charity: the ledger's (its charityId index on MongoDB), the catalog's, and those this Redis built. */
async function everyCharity(deps: Deps): Promise<string[]> {
  // query: ledger.charities (distinct charityId, served by the {charityId, seq} index on MongoDB; a full rebuild only)
  const inLedger = await deps.db.collection<LedgerDoc>(LEDGER_COLLECTION).distinct('charityId');
  return [...new Set([...inLedger.map(String), ...await knownCharities(deps)])].sort();
}

/** One charity's chain, block by block, with the display fields the totals show (names, masked buyer). */
function storedChain(deps: Deps, charityId: string): AsyncIterable<LedgerEntry[]> {
  const coll = deps.db.collection<LedgerDoc>(LEDGER_COLLECTION);
  const block = async (b: number): Promise<LedgerEntry[]> => (await coll.find({ blockKey: blockKeyOf(charityId, b) }).toArray()) // query: ledger.byBlock
    .map((d): Stored => ({ ...toEntry(d), charityName: d.charityName, productName: d.productName, buyer: d.buyer, ...(d.partialRefund ? { partialRefund: true } : {}), partition: d.partition, offset: d.offset }))
    .sort((x, y) => x.seq - y.seq);
  return readBlocks(block, 0);
}

/** Rebuilds one charity's totals under its lock; waits instead when another process rebuilds it. */
export async function rebuildCharity(deps: Deps, charityId: string, now = Date.now()): Promise<{ entries: number; chainProblems: number; streams: Set<string>; scanMs: number; waited?: boolean }> {
  const { redis, logger } = deps;
  const k = charityKeyspace(deps, charityId);
  const owner = randomBytes(8).toString('hex');
  if ((await redis.set(k(totalsKeys.lock), owner, 'PX', LOCK_MS, 'NX')) !== 'OK') {
    while (await redis.exists(k(totalsKeys.lock))) await new Promise((r) => setTimeout(r, 200));
    return { entries: 0, chainProblems: 0, streams: new Set(), scanMs: 0, waited: true };
  }
  const renew = setInterval(() => void redis.pexpire(k(totalsKeys.lock), LOCK_MS).catch(() => undefined), LOCK_MS / 4);
  // the rebuild replaces the charity's copy of its index entries: this process's next script writes its own again
  forgetIndexed(deps, [charityId]);
  try {
    const t0 = Date.now();
    const st = emptyState();
    const windowMs = deps.config.orders.refundWindowSeconds * 1000;
    const matched = new Map<string, { spent: number; taken: Map<string, number>; returned: Map<string, number> }>();
    const streams = new Set<string>();
    const hosts = new Set<string>();
    const offsets = new Map<number, number>();
    let head: ChainHead & { partition?: number } = GENESIS;
    let entries = 0;
    let chainProblems = 0;
    for await (const block of storedChain(deps, charityId)) {
      const v = verifyChain(charityId, block, head);
      if (v.problems.length) { deps.metrics.chainVerifyFailures.inc(); logger.error({ charityId, problems: v.problems.slice(0, 10) }, 'rebuild: the ledger chain does not verify'); }
      chainProblems += v.problems.length;
      for (const e of block as Stored[]) {
        applyOps(st, entryOps(e, e, windowMs), now);
        if (e.streamId) streams.add(e.streamId); // remittance entries name no stream
        for (const s of Object.keys(e.remit?.byStream ?? {})) streams.add(s);
        if (e.hostId) hosts.add(e.hostId);
        offsets.set(e.partition, Math.max(offsets.get(e.partition) ?? -1, e.offset));
        if (e.matchId) {
          const m = matched.get(e.matchId) ?? matched.set(e.matchId, { spent: 0, taken: new Map(), returned: new Map() }).get(e.matchId)!;
          m.spent += e.amountFen;
          // partial refunds return a match in several entries: what came back is their sum
          if (e.amountFen > 0) m.taken.set(e.orderId, e.amountFen);
          else m.returned.set(e.orderId, (m.returned.get(e.orderId) ?? 0) - e.amountFen);
        }
        head = { seq: e.seq, hash: e.hash, partition: e.partition };
        entries++;
      }
    }
    const scanMs = Date.now() - t0;
    // the charity's sponsor matches, from the one pass of a small collection (query: matches.all)
    const matches = (await deps.db.collection<MatchDoc>(MATCH_COLLECTION).find({}).toArray()).filter((m) => m.charityId === charityId);
    const oldSeqs = await Promise.all([...streams].map((s) => redis.hget(k(totalsKeys.stream(s)), 'seq')));
    await deleteCharityKeys(deps, charityId, [...st.hashes.keys(), ...st.lists.keys(), ...st.zsets.keys()], streams, matches);
    const pipe = redis.pipeline();
    for (const [key, h] of st.hashes) for (const part of chunks([...h])) pipe.hset(k(key), Object.fromEntries(part));
    for (const [key, l] of st.lists) if (l.length) pipe.rpush(k(key), ...l);
    for (const [key, z] of st.zsets) for (const part of chunks([...z])) pipe.zadd(k(key), ...part.flatMap(([m, score]) => [score, m]));
    for (const part of chunks([...st.pending])) {
      pipe.zadd(k(totalsKeys.confirm), ...part.flatMap(([orderId, p]) => [p.score, orderId]));
      pipe.hset(k(totalsKeys.confirmOps), Object.fromEntries(part.map(([orderId, p]) => [orderId, JSON.stringify(qualifyOps(p.ops, k))])));
    }
    if (streams.size) pipe.sadd(k(totalsKeys.partialStreams), ...streams);
    if (hosts.size) pipe.sadd(k(totalsKeys.partialHosts), ...hosts);
    if (head.seq > 0) pipe.hset(k(totalsKeys.head(charityId)), { seq: String(head.seq), hash: head.hash, partition: String(head.partition), offset: String(offsets.get(head.partition!) ?? -1) });
    // a partial's seq only grows for feed clients, even across a rebuild that lost the old value
    const seqs = [...streams].map((s, i) => Math.max(Number(oldSeqs[i] ?? 0) + 1, Date.now()));
    [...streams].forEach((s, i) => pipe.hset(k(totalsKeys.stream(s)), 'seq', String(seqs[i])));
    for (const [id, m] of matched) {
      for (const part of chunks([...m.taken])) pipe.hset(k('match', id, 'taken'), Object.fromEntries(part.map(([o, a]) => [o, `${a}:${a}`])));
      for (const part of chunks([...m.returned])) pipe.hset(k('match', id, 'returned'), Object.fromEntries(part.map(([o, a]) => [o, String(a)])));
    }
    for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
    for (const m of matches) await activateMatch(deps, m, m.capFen - (matched.get(m._id)?.spent ?? 0));
    // the index entries readers find this charity's partials by (each in its stream's or host's own slot)
    await Promise.all([...[...streams].map((s) => redis.sadd(streamCharitiesKey(deps, s), charityId)), ...[...hosts].map((h) => redis.sadd(hostCharitiesKey(deps, h), charityId)), redis.sadd(builtCharitiesKey(deps), charityId)]);
    // the marker names the server that holds this charity's slot: after a restart or failover (which may drop the last writes) it is rebuilt again
    await redis.set(k(totalsKeys.built), await runIdFor(redis, k(totalsKeys.built)));
    await Promise.all([...streams].map((s, i) => redis.publish(totalsChannel(deps), JSON.stringify({ streamId: s, seq: seqs[i] }))));
    return { entries, chainProblems, streams, scanMs };
  } finally {
    clearInterval(renew);
    await redis.eval(releaseLua, 1, k(totalsKeys.lock), owner).catch(() => undefined);
  }
}

function chunks<T>(xs: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

/**
 * Deletes one charity's allocator state by name (all in its slot, so multi-key UNLINKs): the keys the rebuilt state
 * writes, its fixed keys, its streams' and matches' keys, and every key its stored confirmations name. Keeps the
 * rebuild lock, the remembered event ids, and the remittances reserved but not yet in the ledger (issue 15): the
 * ledger cannot give them back, and their entries free them when they arrive.
 */
async function deleteCharityKeys(deps: Deps, charityId: string, stateKeys: string[], streams: Set<string>, matches: MatchDoc[]): Promise<void> {
  const k = charityKeyspace(deps, charityId);
  const names = new Set<string>([
    totalsKeys.charity(charityId), totalsKeys.names, totalsKeys.donations, totalsKeys.confirm, totalsKeys.confirmOps, totalsKeys.built, totalsKeys.head(charityId),
    totalsKeys.partialStreams, totalsKeys.partialHosts,
    ...stateKeys, ...[...streams].flatMap((s) => [totalsKeys.stream(s), totalsKeys.recent(s), `match:stream:${s}`, `match:for:${s}:${charityId}`]),
    ...matches.flatMap((m) => [`match:${m._id}`, `match:${m._id}:taken`, `match:${m._id}:returned`, `match:stream:${m.streamId}`, `match:for:${m.streamId}:${charityId}`]),
  ].map((n) => k(n)));
  // keys named by confirmations still pending (a state from before, e.g. an agreement's sets)
  for (const ops of await deps.redis.hvals(k(totalsKeys.confirmOps))) for (const key of JSON.stringify(JSON.parse(ops)).match(/"[^"]*\{tot:[^"]*"/g) ?? []) names.add(JSON.parse(key) as string);
  const doomed = [...names].filter((n) => !n.endsWith(':res') && n !== k(totalsKeys.pendingRemittances) && n.startsWith(k('')));
  for (const part of chunks(doomed)) await deps.redis.unlink(...part);
}
