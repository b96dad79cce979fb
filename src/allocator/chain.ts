import { sha256Hex } from '../infra/sha256';
import { ChainHead, GENESIS, LedgerEntry, UnchainedEntry } from './ledger.types';

/**
 * The canonical encoding hashed for an entry: a JSON array in fixed field order, so the bytes do not
 * depend on object key order or on the store. hash = SHA-256(canonical(entry) with prevHash).
 */
export function canonicalEntry(e: Omit<LedgerEntry, 'hash'>): string {
  const v1 = [e.charityId, e.seq, e.kind, e.amountFen, e.salesFen, e.quantity, e.orderId, e.streamId, e.productId, e.hostId, e.eventId, e.matchId ?? '', e.at, e.prevHash];
  // entries without an agreement or remittance keep the v1 bytes, so every chain written before issue 15 still verifies
  if (e.agreementId === undefined && e.remit === undefined) return JSON.stringify(['livegive.ledger.v1', ...v1]);
  const r = e.remit;
  const byStream = r?.byStream ? Object.keys(r.byStream).sort().map((k) => [k, r.byStream![k]]) : [];
  const remit = r ? [r.remittanceId, r.amountFen, r.paidAt, r.reference, r.coversFrom, r.coversTo, r.outcome ?? '', r.reason ?? '', byStream] : [];
  return JSON.stringify(['livegive.ledger.v2', ...v1, e.agreementId ?? '', ...remit]);
}

export function hashEntry(e: Omit<LedgerEntry, 'hash'>): string {
  return sha256Hex(canonicalEntry(e));
}

/** Numbers and hashes entries after the head, in order; pure and deterministic. */
export function chainEntries(head: ChainHead, entries: UnchainedEntry[]): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  let prev = head;
  for (const e of entries) {
    // one object an entry: the hash is filled in once computed (canonicalEntry never reads it)
    const entry: LedgerEntry = { ...e, seq: prev.seq + 1, prevHash: prev.hash, hash: '' };
    entry.hash = hashEntry(entry);
    out.push(entry);
    prev = entry;
  }
  return out;
}

export type ChainProblem =
  | { seq: number; problem: 'gap'; expectedSeq: number }
  | { seq: number; problem: 'prev-hash'; expected: string; found: string }
  | { seq: number; problem: 'hash'; expected: string; found: string }
  | { seq: number; problem: 'charity'; expected: string; found: string };

/**
 * Verifies entries (sorted by seq, starting right after `from`) against the chain rules and answers
 * every problem found, naming the entry: a changed amount breaks that entry's hash, a deleted entry
 * leaves a gap, a reordered pair breaks the prev-hash links.
 */
export function verifyChain(charityId: string, entries: Iterable<LedgerEntry>, from: ChainHead = GENESIS): { head: ChainHead; count: number; problems: ChainProblem[] } {
  const problems: ChainProblem[] = [];
  let prev = from;
  let count = 0;
  for (const e of entries) {
    count++;
    if (e.charityId !== charityId) problems.push({ seq: e.seq, problem: 'charity', expected: charityId, found: e.charityId });
    if (e.seq !== prev.seq + 1) problems.push({ seq: e.seq, problem: 'gap', expectedSeq: prev.seq + 1 });
    if (e.prevHash !== prev.hash) problems.push({ seq: e.seq, problem: 'prev-hash', expected: prev.hash, found: e.prevHash });
    const h = hashEntry(e);
    if (h !== e.hash) problems.push({ seq: e.seq, problem: 'hash', expected: h, found: e.hash });
    prev = { seq: e.seq, hash: e.hash };
  }
  return { head: prev, count, problems };
}
