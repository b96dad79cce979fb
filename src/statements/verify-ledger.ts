import type { ChainHead, LedgerEntry } from '../allocator/ledger.types';
import { GENESIS } from '../allocator/ledger.types';
import { verifyChain, type ChainProblem } from '../allocator/chain';
import { BLOCK_SIZE, subtreeRoot, treeRoot } from './merkle';
import { Statement, StatementAccumulator, statementDigest } from './statement.math';

export interface ChainCheck { head: ChainHead; count: number; totalFen: number; merkleRoot: string; problems: string[]; statement?: Statement }

/** Words for a chain problem, naming the entry (and, for a remittance or acknowledgement, which remittance it records). */
export function describeChainProblem(p: ChainProblem, e?: LedgerEntry): string {
  const what = e?.remit ? `${e.kind} entry #${p.seq} (remittance ${e.remit.remittanceId})` : null;
  if (what && p.problem === 'hash') return `${what} does not hash to its stored hash: one of its fields (amount, reference, covered entries…) was changed`;
  if (what && p.problem === 'prev-hash') return `${what} does not link to the entry before it`;
  switch (p.problem) {
    case 'gap': return p.seq > p.expectedSeq ? `entry #${p.expectedSeq} is missing (the next stored entry is #${p.seq})` : `entry #${p.seq} is out of place (expected #${p.expectedSeq} here)`;
    case 'prev-hash': return `entry #${p.seq} does not link to the entry before it (prevHash ${p.found.slice(0, 12)}…, expected ${p.expected.slice(0, 12)}…)`;
    case 'hash': return `entry #${p.seq} does not hash to its stored hash: one of its fields (amount, order, time…) was changed`;
    case 'charity': return `entry #${p.seq} belongs to charity ${p.found}, not ${p.expected}`;
  }
}

/**
 * Streams a charity's whole chain once: checks every link and hash (naming each broken entry), rebuilds
 * the Merkle root and total, and, given a period, recomputes the statement. Memory: one block of leaves.
 */
export async function checkChain(charityId: string, entries: AsyncIterable<LedgerEntry>, period?: { from: Date; to: Date }, onEntry?: () => void): Promise<ChainCheck> {
  const problems: string[] = [];
  let prev: ChainHead = GENESIS;
  let count = 0;
  let totalFen = 0;
  const roots: Buffer[] = [];
  let block: string[] = [];
  const acc = period ? new StatementAccumulator(charityId, period.from, period.to) : undefined;
  for await (const e of entries) {
    const r = verifyChain(charityId, [e], prev);
    problems.push(...r.problems.map((p) => describeChainProblem(p, e)));
    prev = r.head;
    count++;
    totalFen += e.amountFen;
    acc?.add(e);
    block.push(e.hash);
    if (block.length === BLOCK_SIZE) {
      const leaves = block;
      roots.push(subtreeRoot({ leaf: (i) => leaves[i % BLOCK_SIZE] }, roots.length * BLOCK_SIZE, (roots.length + 1) * BLOCK_SIZE));
      block = [];
    }
    onEntry?.();
  }
  const complete = roots.length;
  const merkleRoot = treeRoot({ leaf: (i) => block[i - complete * BLOCK_SIZE], blockRoot: (b) => roots[b] }, count);
  const statement = acc?.finish({ streams: new Map(), hosts: new Map(), products: new Map() });
  return { head: prev, count, totalFen, merkleRoot, problems, statement };
}

const statementFigures = ['openingFen', 'allocatedFen', 'reversedFen', 'matchedFen', 'matchReversedFen', 'closingFen', 'entries', 'firstSeq', 'lastSeq', 'headSeq', 'headHash'] as const;
const breakdowns = [['byStream', 'streamId'], ['byHost', 'hostId'], ['byProduct', 'productId']] as const;
const rowFigures = ['entries', 'units', 'allocatedFen', 'reversedFen', 'matchedFen', 'matchReversedFen', 'netFen'] as const;

/** Compares a statement (saved or served) with the one recomputed from the entries, naming each figure that differs. */
export function compareStatement(claimed: Statement, recomputed: Statement): string[] {
  const out: string[] = [];
  if (claimed.digest !== undefined && statementDigest(claimed) !== claimed.digest) out.push('the statement\'s digest does not match its contents: the statement itself was edited');
  if (claimed.charityId !== recomputed.charityId) out.push(`charityId: statement says ${claimed.charityId}, checked ${recomputed.charityId}`);
  for (const f of statementFigures) {
    if (claimed[f] !== recomputed[f]) out.push(`${f}: statement says ${String(claimed[f])}, the ledger gives ${String(recomputed[f])}`);
  }
  for (const [list, idKey] of breakdowns) {
    const mine = new Map<string, Record<string, unknown>>((recomputed[list] as unknown as Array<Record<string, unknown>>).map((r) => [String(r[idKey]), r]));
    const theirs = new Map<string, Record<string, unknown>>(((claimed[list] ?? []) as unknown as Array<Record<string, unknown>>).map((r) => [String(r[idKey]), r]));
    for (const id of new Set([...mine.keys(), ...theirs.keys()])) {
      const a = theirs.get(id);
      const b = mine.get(id);
      if (!a || !b) { out.push(`${list}[${id}]: ${a ? 'not in the ledger' : 'missing from the statement'}`); continue; }
      for (const f of rowFigures) if (a[f] !== b[f]) out.push(`${list}[${id}].${f}: statement says ${String(a[f])}, the ledger gives ${String(b[f])}`);
    }
  }
  return out;
}
