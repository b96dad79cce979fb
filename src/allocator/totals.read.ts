import type { Deps } from '../deps';
import type { StreamTotals } from '../events';
import { DomainError } from '../infra/errors';
import { shardKeys, shardOf } from '../infra/shards';
import { RECENT_MAX, shapeStreamTotals, totalsKeys } from './totals';
import { charityKeyspace, streamCharitiesKey, totalsIndexKey } from './totals.store';

/**
 * Reads of the totals. A stream's totals are the sum of the partials its charities hold under their own tags
 * (each charity's script moves only its own), so a read asks the stream's set of charities first, then each
 * charity's slot in one pipeline, concurrently.
 */

/** One charity's partial of a stream: its hash, the names it recorded, its recent list and its sponsor matches. */
async function readPartial(deps: Deps, charityId: string, streamId: string) {
  const tk = charityKeyspace(deps, charityId);
  const res = (await deps.redis.pipeline()
    .hgetall(tk(totalsKeys.stream(streamId))).hgetall(tk(totalsKeys.names)).lrange(tk(totalsKeys.recent(streamId)), 0, -1)
    .smembers(tk('match', 'stream', streamId)).exec()) ?? [];
  for (const [err] of res) if (err) throw err;
  const [[, h], [, names], [, recent], [, matchIds]] = res as [unknown, unknown][];
  const ids = (matchIds as string[]).sort();
  const pipe = deps.redis.pipeline();
  for (const id of ids) pipe.hgetall(tk('match', id));
  const matches = ids.length ? ((await pipe.exec()) ?? []).map(([, m], i) => {
    const v = m as Record<string, string>;
    const capFen = Number(v.capFen);
    return { matchId: ids[i], sponsorName: v.sponsorName, charityId: v.charityId, ratioPercent: Number(v.ratioPercent), capFen, matchedFen: capFen - Number(v.remainingFen), remainingFen: Number(v.remainingFen) };
  }) : [];
  return { h: h as Record<string, string>, names: names as Record<string, string>, recent: recent as string[], matches };
}

/** Every field of the partials summed (they are all integers: fen, units, counts, and seq, so the stream's seq only grows). */
export function sumPartials(hashes: Record<string, string>[]): Record<string, string> {
  const sum = new Map<string, bigint>();
  for (const h of hashes) for (const [f, v] of Object.entries(h)) sum.set(f, (sum.get(f) ?? 0n) + BigInt(v));
  return Object.fromEntries([...sum].map(([f, v]) => [f, v.toString()]));
}

/** The newest RECENT_MAX of the charities' recent lists (each newest first), newest first. */
export function mergeRecent(lists: string[][]): string[] {
  const all = lists.flatMap((l) => l.map((r, i) => ({ r, at: String((JSON.parse(r) as { at?: string }).at ?? ''), i })));
  // by time, newest first; within one list its own order (a list is already newest first)
  return all.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.i - b.i)).slice(0, RECENT_MAX).map((x) => x.r);
}

/** The charities that hold a partial of a stream. */
export const charitiesOfStream = async (deps: Deps, streamId: string) => (await deps.redis.smembers(streamCharitiesKey(deps, streamId))).sort();

/** The totals of one stream as `GET /api/v1/streams/:id/totals` answers them; null for an unknown stream. */
export async function readStreamTotals(deps: Deps, streamId: string): Promise<StreamTotals | null> {
  const [stream, charities] = await Promise.all([streamState(deps, streamId), charitiesOfStream(deps, streamId)]);
  if (!stream) return null;
  const parts = await Promise.all(charities.map((c) => readPartial(deps, c, streamId)));
  const names = Object.assign({}, ...parts.map((p) => p.names)) as Record<string, string>;
  const matches = parts.flatMap((p) => p.matches).sort((a, b) => (a.matchId < b.matchId ? -1 : 1));
  return shapeStreamTotals(streamId, { status: stream.status, goalFen: stream.goalFen ?? 0 }, sumPartials(parts.map((p) => p.h)), names, mergeRecent(parts.map((p) => p.recent)), matches);
}

/** A stream's status and goal: the catalog's Redis copy, else MongoDB (the copy may be rebuilding). */
async function streamState(deps: Deps, streamId: string): Promise<{ status: string; goalFen: number } | null> {
  const cached = await deps.redis.hgetall(shardKeys(deps.config.redis.prefix, shardOf(streamId)).stream(streamId));
  if (cached.status) return { status: cached.status, goalFen: Number(cached.goalFen ?? 0) };
  return deps.db.collection<{ _id: string; status: string; goalFen: number }>('streams').findOne({ _id: streamId }, { projection: { status: 1, goalFen: 1 } });
}

/** Running totals of one charity (pledged, matched, confirmed), straight from Redis. */
export async function readCharityTotals(deps: Deps, charityId: string): Promise<Record<string, number>> {
  const h = await deps.redis.hgetall(charityKeyspace(deps, charityId)(totalsKeys.charity(charityId)));
  return Object.fromEntries(['donationFen', 'matchedFen', 'confirmedDonationFen', 'salesFen', 'units', 'orders', 'entries', 'balanceFen'].map((f) => [f, Number(h[f] ?? 0)]));
}

/** An order's donation as the allocator last recorded it (one Redis read in its charity's slot, no ledger scan). */
export async function donationOf(deps: Deps, orderId: string, charityId: string): Promise<{ status: 'pending' | 'allocated' | 'reversed'; entrySeq?: number }> {
  const v = await deps.redis.hget(charityKeyspace(deps, charityId)(totalsKeys.donations), orderId);
  if (!v) return { status: 'pending' };
  const [status, seq] = v.split(':');
  return { status: status as 'allocated' | 'reversed', entrySeq: Number(seq) };
}

/** Refuses to serve a stream's totals while one of its charities' totals is missing or being rebuilt (they would be partial). */
export async function assertTotalsReady(deps: Deps, streamId: string): Promise<void> {
  // no index marker: this Redis lost everything (or was never built), so the stream's list of charities may be gone too
  const [charities, indexed] = await Promise.all([charitiesOfStream(deps, streamId), deps.redis.exists(totalsIndexKey(deps))]);
  if (!indexed) throw new DomainError('UNAVAILABLE', 'totals are being rebuilt; retry shortly', undefined, 2);
  const states = await Promise.all(charities.map(async (c) => {
    const tk = charityKeyspace(deps, c);
    const res = (await deps.redis.pipeline().exists(tk(totalsKeys.built)).exists(tk(totalsKeys.lock)).exec()) ?? [];
    return { built: Number(res[0]?.[1] ?? 0), lock: Number(res[1]?.[1] ?? 0) };
  }));
  if (states.some((s) => !s.built || s.lock)) throw new DomainError('UNAVAILABLE', 'totals are being rebuilt; retry shortly', undefined, 2);
}
