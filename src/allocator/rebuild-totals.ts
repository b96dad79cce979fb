import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import { verifyChain } from './chain';
import { activateMatch, MATCH_COLLECTION, type MatchDoc } from './create-match';
import { LedgerRepository, toEntry, type LedgerDoc } from './ledger.repository';
import { applyOps, emptyState, entryOps, totalsKeys } from './totals';
import { qualifyOps, totalsChannel, totalsKeyspace } from './totals.store';
import { runIdFor, unlinkMatching } from '../infra/redis';

const LOCK_MS = 120_000;
const releaseLua = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

export interface RebuildReport { entries: number; charities: number; streams: number; chainProblems: number; ms: number; scanMs?: number; waited?: boolean }

/**
 * Recomputes every running total, chain head and match budget from the ledger and replaces what
 * Redis holds. One process rebuilds under a lock; allocators wait (their script answers BUSY) and
 * readers get 503 meanwhile. Used at start when Redis lost its keys, after a chain conflict, and by
 * `livegive totals rebuild`.
 */
export async function rebuildTotals(deps: Deps, now = Date.now()): Promise<RebuildReport> {
  const { redis, logger } = deps;
  const key = totalsKeyspace(deps);
  const t0 = Date.now();
  const owner = randomBytes(8).toString('hex');
  if ((await redis.set(key(totalsKeys.lock), owner, 'PX', LOCK_MS, 'NX')) !== 'OK') {
    // someone else rebuilds: wait for them rather than rebuild twice
    while (await redis.exists(key(totalsKeys.lock))) await new Promise((r) => setTimeout(r, 200));
    return { entries: 0, charities: 0, streams: 0, chainProblems: 0, ms: Date.now() - t0, waited: true };
  }
  const renew = setInterval(() => void redis.pexpire(key(totalsKeys.lock), LOCK_MS).catch(() => undefined), LOCK_MS / 4);
  try {
    const byCharity = new Map<string, LedgerDoc[]>();
    for await (const d of new LedgerRepository(deps).all()) (byCharity.get(d.charityId) ?? byCharity.set(d.charityId, []).get(d.charityId)!).push(d);
    const scanMs = Date.now() - t0;
    const st = emptyState();
    const windowMs = deps.config.orders.refundWindowSeconds * 1000;
    const matched = new Map<string, { spent: number; taken: Map<string, number>; returned: Map<string, number> }>();
    const heads = new Map<string, Record<string, string>>();
    const streams = new Set<string>();
    let chainProblems = 0;
    let entries = 0;
    for (const [charityId, docs] of byCharity) {
      docs.sort((a, b) => a.seq - b.seq);
      const chain = docs.map(toEntry);
      const v = verifyChain(charityId, chain);
      if (v.problems.length) deps.metrics.chainVerifyFailures.inc();
      if (v.problems.length) logger.error({ charityId, problems: v.problems.slice(0, 10) }, 'rebuild: the ledger chain does not verify');
      chainProblems += v.problems.length;
      docs.forEach((d, i) => {
        applyOps(st, entryOps(chain[i], d, windowMs), now);
        if (d.streamId) streams.add(d.streamId); // remittance entries name no stream
        if (d.matchId) {
          const m = matched.get(d.matchId) ?? matched.set(d.matchId, { spent: 0, taken: new Map(), returned: new Map() }).get(d.matchId)!;
          m.spent += d.amountFen;
          // partial refunds return a match in several entries: what came back is their sum
          if (d.amountFen > 0) m.taken.set(d.orderId, d.amountFen);
          else m.returned.set(d.orderId, (m.returned.get(d.orderId) ?? 0) - d.amountFen);
        }
      });
      const last = docs[docs.length - 1];
      heads.set(charityId, { seq: String(last.seq), hash: last.hash, partition: String(last.partition), offset: String(docs.reduce((o, d) => (d.partition === last.partition ? Math.max(o, d.offset) : o), -1)) });
      entries += docs.length;
    }
    const oldSeqs = await Promise.all([...streams].map((s) => redis.hget(key(totalsKeys.stream(s)), 'seq')));
    await deleteTotalsKeys(deps);
    const pipe = redis.pipeline();
    for (const [k, h] of st.hashes) pipe.hset(key(k), Object.fromEntries(h));
    for (const [k, l] of st.lists) pipe.rpush(key(k), ...l);
    for (const [k, z] of st.zsets) pipe.zadd(key(k), ...[...z].flatMap(([m, score]) => [score, m]));
    for (const [orderId, p] of st.pending) {
      pipe.zadd(key(totalsKeys.confirm), p.score, orderId);
      pipe.hset(key(totalsKeys.confirmOps), orderId, JSON.stringify(qualifyOps(p.ops, key)));
    }
    for (const [id, h] of heads) pipe.hset(key(totalsKeys.head(id)), h);
    // seq only grows for feed clients, even across a rebuild that lost the old value
    [...streams].forEach((s, i) => pipe.hset(key(totalsKeys.stream(s)), 'seq', String(Math.max(Number(oldSeqs[i] ?? 0) + 1, Date.now()))));
    for (const [id, m] of matched) {
      if (m.taken.size) pipe.hset(key('match', id, 'taken'), Object.fromEntries([...m.taken].map(([o, a]) => [o, `${a}:${a}`])));
      if (m.returned.size) pipe.hset(key('match', id, 'returned'), Object.fromEntries([...m.returned].map(([o, a]) => [o, String(a)])));
    }
    await pipe.exec();
    for (const m of await deps.db.collection<MatchDoc>(MATCH_COLLECTION).find({}).toArray()) await activateMatch(deps, m, m.capFen - (matched.get(m._id)?.spent ?? 0));
    // the marker names this server: after a restart (which may drop the last writes) allocators rebuild again
    await redis.set(key(totalsKeys.built), await runIdFor(redis, key(totalsKeys.built)));
    for (const s of streams) await redis.publish(totalsChannel(deps), JSON.stringify({ streamId: s, seq: Number(await redis.hget(key(totalsKeys.stream(s)), 'seq')) }));
    const report = { entries, charities: byCharity.size, streams: streams.size, chainProblems, ms: Date.now() - t0, scanMs };
    logger.info(report, 'totals rebuilt from the ledger');
    return report;
  } finally {
    clearInterval(renew);
    await redis.eval(releaseLua, 1, key(totalsKeys.lock), owner).catch(() => undefined);
  }
}

/**
 * Deletes the allocator's Redis state (totals, chain heads, match budgets), keeping the rebuild lock and the
 * remittances reserved but not yet in the ledger (issue 15): the ledger cannot give them back, and their entries
 * free them when they arrive.
 */
async function deleteTotalsKeys(deps: Deps): Promise<void> {
  const key = totalsKeyspace(deps);
  const lock = key(totalsKeys.lock);
  const pending = key(totalsKeys.pendingRemittances);
  const keep = (k: string) => k === lock || k === pending || (k.startsWith(key('tot:a:')) && k.endsWith(':res'));
  for (const pattern of ['tot:*', 'chain:*', 'match:*']) await unlinkMatching(deps.redis, key(pattern), keep);
}
