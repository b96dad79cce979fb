import type { Deps } from '../../src/deps';
import { verifyChain } from '../../src/allocator/chain';
import { LedgerRepository, toEntry, type LedgerDoc } from '../../src/allocator/ledger.repository';

export interface LedgerSummary {
  count: number;
  /** per charity: signed sums by kind, entry count, max seq, and chain problems found from entry 1 */
  byCharity: Map<string, { donationFen: number; matchedFen: number; count: number; maxSeq: number; problems: number; keys: Set<string> }>;
  byMatch: Map<string, number>;
  byStream: Map<string, { donationFen: number; matchedFen: number }>;
}

/** Reads the whole ledger once and checks every charity's chain from entry 1. */
export async function summariseLedger(deps: Deps): Promise<LedgerSummary> {
  const docs: LedgerDoc[] = [];
  for await (const d of new LedgerRepository(deps).all()) docs.push(d);
  const s: LedgerSummary = { count: docs.length, byCharity: new Map(), byMatch: new Map(), byStream: new Map() };
  const grouped = new Map<string, LedgerDoc[]>();
  for (const d of docs) (grouped.get(d.charityId) ?? grouped.set(d.charityId, []).get(d.charityId)!).push(d);
  for (const [c, list] of grouped) {
    list.sort((a, b) => a.seq - b.seq);
    const money = list.filter((d) => !d.matchId).reduce((n, d) => n + d.amountFen, 0);
    const matched = list.filter((d) => d.matchId).reduce((n, d) => n + d.amountFen, 0);
    const v = verifyChain(c, list.map(toEntry));
    s.byCharity.set(c, { donationFen: money, matchedFen: matched, count: list.length, maxSeq: list[list.length - 1].seq, problems: v.problems.length, keys: new Set(list.map((d) => d._id)) });
  }
  for (const d of docs) {
    if (d.matchId) s.byMatch.set(d.matchId, (s.byMatch.get(d.matchId) ?? 0) + d.amountFen);
    const st = s.byStream.get(d.streamId) ?? s.byStream.set(d.streamId, { donationFen: 0, matchedFen: 0 }).get(d.streamId)!;
    if (d.matchId) st.matchedFen += d.amountFen; else st.donationFen += d.amountFen;
  }
  return s;
}

/** The allocator's Redis state as comparable text: totals, chain heads and match budgets (not feed seqs or recent lists). */
export async function snapshotTotals(deps: Deps): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  const keys = (await deps.redis.keys(deps.key('*'))).filter((k) => /:(tot:[scp]:|chain:|match:m_[^:]+$)/.test(k));
  for (const k of keys.sort()) {
    const { seq: _seq, ...h } = await deps.redis.hgetall(k);
    out[k.slice(deps.key('').length)] = h;
  }
  return out;
}
