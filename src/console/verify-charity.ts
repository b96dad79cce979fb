import type { Deps } from '../deps';
import type { LedgerEntry } from '../allocator/ledger.types';
import { buildStatement, type Statement } from '../statements';
// the statements slice's own verify logic (what `livegive verify` runs), called as it is, never copied
import { checkChain, compareStatement } from '../statements/verify-ledger';
import { publicCharity } from '../statements/public-views';
import { StatementsRepository } from '../statements/statements.repository';

async function* upTo(entries: AsyncIterable<LedgerEntry>, lastSeq: number): AsyncIterable<LedgerEntry> {
  for await (const e of entries) {
    if (e.seq > lastSeq) return;
    yield e;
  }
}

/**
 * `livegive verify` run for the charity console, read-only: recomputes the chain, Merkle root and total of
 * every entry stored when it starts, compares them with the published head at that entry and, given a period,
 * recomputes the statement and compares it figure by figure with the one the API serves.
 */
export async function verifyCharity(deps: Deps, charityId: string, period?: { from: Date; to: Date }) {
  // the served statement first, then the published head: the allocator moves it only after the entries and their
  // derived documents are stored, so every entry the statement counts is at or below it; entries appended while
  // verify runs are left for the next run. One read by _id (query: tree.byId), not a sort over the charity's entries.
  const claimed: Statement | undefined = period ? await buildStatement(deps, charityId, period) : undefined;
  const repo = new StatementsRepository(deps);
  let last = await repo.head(charityId);
  // the statement may count a batch whose entries are stored and whose head is about to move: wait for it (briefly)
  for (let i = 0; i < 20 && (claimed?.lastSeq ?? 0) > last.seq; i++) {
    await new Promise((r) => setTimeout(r, 100));
    last = await repo.head(charityId);
  }
  const entries = upTo(repo.entriesAfter(charityId, 0), last.seq);
  const check = await checkChain(charityId, entries, period);
  // the published head as of the last entry the chain reached (a tampered chain publishes a shorter one)
  const head = await publicCharity(deps, charityId, check.head.seq);
  const problems = [...check.problems];
  if (head.headSeq !== check.head.seq) problems.push(`published head: entry count is ${head.headSeq}, the chain has ${check.head.seq}`);
  if (head.headHash !== check.head.hash) problems.push(`published head: head hash ${head.headHash} differs from the chain's ${check.head.hash}`);
  if (head.totalFen !== check.totalFen) problems.push(`published total: ${head.totalFen} fen, the entries sum to ${check.totalFen} fen`);
  if (head.merkleRoot !== check.merkleRoot) problems.push(`published Merkle root ${head.merkleRoot} differs from the one rebuilt from the entries (${check.merkleRoot})`);
  if (claimed && check.statement) problems.push(...compareStatement(claimed, check.statement));
  const s = check.statement;
  return {
    charityId, ok: problems.length === 0, entries: check.count, headSeq: check.head.seq, headHash: check.head.hash, totalFen: check.totalFen,
    merkleRoot: check.merkleRoot, period: s ? { from: s.from, to: s.to, openingFen: s.openingFen, closingFen: s.closingFen, entries: s.entries } : null,
    problems, checkedAt: new Date().toISOString(),
  };
}
