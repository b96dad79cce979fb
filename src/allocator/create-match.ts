import { randomBytes } from 'node:crypto';
import { Schema, type Connection } from 'mongoose';
import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { matchReason } from './allocate';
import { charityKeyspace, streamCharitiesKey } from './totals.store';

/** A sponsor's matching pledge (配捐): ratioPercent of each allocation to the charity on the stream, up to capFen. */
export interface MatchDoc { _id: string; sponsorName: string; streamId: string; charityId: string; ratioPercent: number; capFen: number; createdAt: Date }
export interface MatchView extends Omit<MatchDoc, '_id' | 'createdAt'> { id: string; remainingFen: number; matchedFen: number; createdAt: string }

export const MATCH_COLLECTION = 'matches';

export function registerMatchModel(conn: Connection): void {
  if (conn.models.Match) return;
  const s = new Schema<MatchDoc>({ _id: String, sponsorName: String, streamId: String, charityId: String, ratioPercent: Number, capFen: Number, createdAt: Date }, { versionKey: false, _id: false, collection: MATCH_COLLECTION });
  conn.model('Match', s);
}

/** Registers a match's budget in Redis, where allocations take from it atomically. Idempotent. */
export async function activateMatch(deps: Deps, m: MatchDoc, remainingFen = m.capFen): Promise<void> {
  // under the charity's tag: a match belongs to one stream and one charity, and that charity's script takes from it
  const k = charityKeyspace(deps, m.charityId);
  await deps.redis.multi()
    .hsetnx(k('match', m._id), 'remainingFen', String(remainingFen))
    .hset(k('match', m._id), { sponsorName: m.sponsorName, streamId: m.streamId, charityId: m.charityId, ratioPercent: String(m.ratioPercent), capFen: String(m.capFen) })
    .sadd(k('match', 'for', m.streamId, m.charityId), m._id)
    .sadd(k('match', 'stream', m.streamId), m._id)
    .exec();
  // the stream's readers find the match through the charity's partial of the stream
  await deps.redis.sadd(streamCharitiesKey(deps, m.streamId), m.charityId);
}

/** Creates a sponsor match for a stream and a charity; both must exist. */
export async function createMatch(deps: Deps, input: Omit<MatchDoc, '_id' | 'createdAt'>): Promise<MatchView> {
  const [stream, charity] = await Promise.all([
    deps.db.collection<{ _id: string }>('streams').findOne({ _id: input.streamId }, { projection: { _id: 1 } }),
    deps.db.collection<{ _id: string }>('charities').findOne({ _id: input.charityId }, { projection: { _id: 1 } }),
  ]);
  const missing = [...(stream ? [] : [{ field: 'body.streamId', message: 'no such stream' }]), ...(charity ? [] : [{ field: 'body.charityId', message: 'no such charity' }])];
  if (missing.length) throw new DomainError('NOT_FOUND', 'the stream or charity does not exist', missing);
  const doc: MatchDoc = { _id: `m_${randomBytes(8).toString('base64url')}`, ...input, createdAt: new Date() };
  // MongoDB is the record (a rebuild re-registers it), Redis holds the live budget
  await deps.db.collection<MatchDoc>(MATCH_COLLECTION).insertOne(doc);
  await activateMatch(deps, doc);
  deps.logger.info({ matchId: doc._id, streamId: doc.streamId, charityId: doc.charityId, capFen: doc.capFen }, 'sponsor match created');
  return toView(doc, doc.capFen);
}

/** A match with its live budget; NOT_FOUND for an unknown id. */
export async function getMatch(deps: Deps, id: string): Promise<MatchView> {
  const doc = await deps.db.collection<MatchDoc>(MATCH_COLLECTION).findOne({ _id: id });
  if (!doc) throw new DomainError('NOT_FOUND', 'no such match');
  const remaining = await deps.redis.hget(charityKeyspace(deps, doc.charityId)('match', id), 'remainingFen');
  return toView(doc, remaining === null ? doc.capFen : Number(remaining));
}

const toView = (d: MatchDoc, remainingFen: number): MatchView => ({
  id: d._id, sponsorName: d.sponsorName, streamId: d.streamId, charityId: d.charityId, ratioPercent: d.ratioPercent,
  capFen: d.capFen, remainingFen, matchedFen: d.capFen - remainingFen, createdAt: d.createdAt.toISOString(),
});

/** What each sponsor match gave an order, and why (for receipts): matched in full, partly, or cap exhausted. */
export async function matchesForOrder(deps: Deps, streamId: string, charityId: string, orderId: string) {
  const k = charityKeyspace(deps, charityId);
  const ids = (await deps.redis.smembers(k('match', 'for', streamId, charityId))).sort();
  const out: { matchId: string; amountFen: number; wantFen: number; returnedFen: number; reason: ReturnType<typeof matchReason> }[] = [];
  for (const id of ids) {
    const [taken, back] = await Promise.all([deps.redis.hget(k('match', id, 'taken'), orderId), deps.redis.hget(k('match', id, 'returned'), orderId)]);
    if (!taken) continue;
    const [amountFen, wantFen] = taken.split(':').map(Number);
    out.push({ matchId: id, amountFen, wantFen, returnedFen: Number(back ?? 0), reason: matchReason({ matchId: id, amountFen, wantFen }) });
  }
  return out;
}
