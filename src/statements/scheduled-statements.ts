import { Schema, type Connection } from 'mongoose';
import type { Deps } from '../deps';
import type { Stoppable } from '../app';
import { buildStatement } from './build-statement';
import type { AgreementDoc } from '../agreements/agreement.types';

/**
 * Statements produced on schedule (issue 15; MCA Order 61: disclosure at least every three months, and at a
 * project's end): each charity's statement for every completed quarter (Asia/Shanghai calendar quarters) since its
 * first entry, and for each agreement that has ended, the charity's statement over the agreement's term. Each is
 * stored once, with its digest, and listed in the charity's public head, so anyone can fetch the statement for the
 * same period and check that its digest is the one published.
 */
export interface PublishedStatement {
  /** `<charity>:Q:<YYYY>Q<n>` or `<charity>:A:<agreementId>` */
  _id: string;
  charityId: string;
  kind: 'quarter' | 'agreement_end';
  /** `2026Q4`, or the agreement's id */
  label: string;
  from: Date;
  to: Date;
  digest: string;
  headSeq: number;
  closingFen: number;
  producedAt: Date;
}

export const PUBLISHED_STATEMENTS = 'published_statements';

export function registerPublishedStatementModel(conn: Connection): void {
  if (conn.models.PublishedStatement) return;
  const s = new Schema<PublishedStatement>({ _id: String, charityId: String, kind: String, label: String, from: Date, to: Date, digest: String, headSeq: Number, closingFen: Number, producedAt: Date },
    { versionKey: false, _id: false, collection: PUBLISHED_STATEMENTS });
  s.index({ charityId: 1 }); // query: published.byCharity (the public head's list)
  conn.model('PublishedStatement', s);
}

const SHANGHAI_MS = 8 * 3_600_000;
/** A period's statement is produced a day after it ends: entries dated in it (a payment at 23:59) have reached the ledger by then. */
export const SETTLE_MS = 86_400_000;

/** The Asia/Shanghai calendar quarter holding an instant: its label and [from, to) as instants. */
export function quarterOf(t: number): { label: string; from: Date; to: Date } {
  const local = new Date(t + SHANGHAI_MS);
  const y = local.getUTCFullYear();
  const q = Math.floor(local.getUTCMonth() / 3);
  return { label: `${y}Q${q + 1}`, from: new Date(Date.UTC(y, q * 3, 1) - SHANGHAI_MS), to: new Date(Date.UTC(y, q * 3 + 3, 1) - SHANGHAI_MS) };
}

/** The completed quarters from the one holding `first` up to (not including) the one holding `now`. */
export function completedQuarters(first: number, now: number): Array<{ label: string; from: Date; to: Date }> {
  const out = [];
  for (let q = quarterOf(first); q.to.getTime() <= now; q = quarterOf(q.to.getTime())) out.push(q);
  return out;
}

/** Produces every statement due by `now` that is not stored yet; answers how many it produced. Insert-once: two instances produce each once. */
export async function produceScheduledStatements(deps: Deps, now = Date.now()): Promise<number> {
  const coll = deps.db.collection<PublishedStatement>(PUBLISHED_STATEMENTS);
  const charities = await deps.db.collection<{ _id: string; createdAt: Date }>('charities').find({}, { projection: { createdAt: 1 } }).toArray(); // query: charities.all (a small catalog list, once a sweep)
  const due: Array<Omit<PublishedStatement, 'digest' | 'headSeq' | 'closingFen' | 'producedAt'>> = [];
  for (const c of charities) {
    for (const q of completedQuarters(c.createdAt.getTime(), now - SETTLE_MS)) due.push({ _id: `${c._id}:Q:${q.label}`, charityId: c._id, kind: 'quarter', label: q.label, from: q.from, to: q.to });
    for (const a of await deps.db.collection<AgreementDoc>('agreements').find({ charityId: c._id }).toArray()) { // query: agreements.byCharity
      if (a.validTo.getTime() + SETTLE_MS <= now && a.status !== 'proposed' && a.status !== 'declined') due.push({ _id: `${c._id}:A:${a._id}`, charityId: c._id, kind: 'agreement_end', label: a._id, from: a.validFrom, to: a.validTo });
    }
  }
  let produced = 0;
  for (const d of due) {
    if (await coll.findOne({ _id: d._id }, { projection: { _id: 1 } })) continue; // query: published.byId
    const s = await buildStatement(deps, d.charityId, { from: d.from, to: d.to });
    await coll.insertOne({ ...d, digest: s.digest, headSeq: s.headSeq, closingFen: s.closingFen, producedAt: new Date(now) }).then(() => produced++, (e: { code?: number }) => { if (e.code !== 11000) throw e; });
  }
  return produced;
}

/** The statements published for a charity, oldest period first, as the public head lists them. */
export async function publishedStatements(deps: Pick<Deps, 'db'>, charityId: string) {
  const docs = await deps.db.collection<PublishedStatement>(PUBLISHED_STATEMENTS).find({ charityId }).toArray(); // query: published.byCharity
  return docs.sort((a, b) => a.from.getTime() - b.from.getTime() || a._id.localeCompare(b._id)).map((d) => ({
    kind: d.kind, label: d.label, from: d.from.toISOString(), to: d.to.toISOString(), digest: d.digest, headSeq: d.headSeq, closingFen: d.closingFen, producedAt: d.producedAt.toISOString(),
  }));
}

/** The api role's schedule: at start and then hourly (a statement is due once a quarter or an agreement ends). */
export async function startStatementSchedule(deps: Deps, everyMs = 3_600_000): Promise<Stoppable> {
  const run = () => void produceScheduledStatements(deps).catch((err: Error) => deps.logger.warn({ err: err.message }, 'scheduled statements failed; retried next run'));
  const first = setTimeout(run, 5_000);
  const timer = setInterval(run, everyMs);
  first.unref(); timer.unref();
  return { stop: async () => { clearTimeout(first); clearInterval(timer); } };
}
