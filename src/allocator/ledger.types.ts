/** A ledger entry: immutable once appended; corrections are new entries. Amounts are signed fen. */
export const entryKinds = ['allocation', 'reversal', 'match', 'match_reversal', 'remittance', 'acknowledgement'] as const;
export type EntryKind = (typeof entryKinds)[number];
/** Kinds that record money moving to the charity outside the donation total: amount 0, they move the remitted / acknowledged layers. */
export const remitKinds: ReadonlySet<EntryKind> = new Set(['remittance', 'acknowledgement']);

/**
 * What a remittance or acknowledgement entry records (hashed with it): the remittance, its amount, when and how it
 * was paid, the allocation entries it covers, and for an acknowledgement the charity's answer (a dispute with its reason).
 */
export interface RemitDetail {
  remittanceId: string;
  amountFen: number;
  paidAt: string;
  reference: string;
  coversFrom: number;
  coversTo: number;
  /** the amount split by the streams the covered entries were sold on (fen each, summing to amountFen) */
  byStream?: Record<string, number>;
  /** acknowledgement entries only */
  outcome?: 'acknowledged' | 'disputed';
  reason?: string;
}

export interface LedgerEntry {
  /** unique per (eventId, kind[, matchId]): a redelivered event inserts nothing */
  key: string;
  charityId: string;
  /** 1, 2, 3 … per charity, no gaps */
  seq: number;
  kind: EntryKind;
  /** signed: allocations and matches are positive, reversals negative */
  amountFen: number;
  /** signed sales value of the order (0 for match entries) */
  salesFen: number;
  /** signed units (0 for match entries) */
  quantity: number;
  orderId: string;
  streamId: string;
  productId: string;
  hostId: string;
  eventId: string;
  matchId: string | null;
  /** the event's time (ISO 8601 UTC), so recomputing an entry gives the same bytes */
  at: string;
  prevHash: string;
  hash: string;
  /** the pledge agreement the order was sold under (issue 15); hashed only when present, so older entries keep their hashes */
  agreementId?: string;
  /** remittance and acknowledgement entries only (hashed) */
  remit?: RemitDetail;
  // an optional field added here must be copied by storedDoc (ledger.repository.ts), which writes the fields out
}

/** The fields an entry has before the chain gives it a number and hashes. */
export type UnchainedEntry = Omit<LedgerEntry, 'seq' | 'prevHash' | 'hash'>;

export interface ChainHead { seq: number; hash: string }
export const GENESIS_HASH = '0'.repeat(64);
export const GENESIS: ChainHead = { seq: 0, hash: GENESIS_HASH };

/**
 * Entries are grouped in aligned blocks of this many: stored Merkle subtrees, ledger pages, the chain read
 * block by block. Small, because FerretDB turns every document it returns from PostgreSQL's jsonb into BSON:
 * a page or a head reads one or two blocks, measured ~0.4 ms a document on this machine, so 64, not 1,024.
 */
export const LEDGER_BLOCK_SIZE = 64;

/** The block an entry falls in (0 for seqs 1..64). */
export const blockOf = (seq: number) => Math.floor((seq - 1) / LEDGER_BLOCK_SIZE);
/** Equality keys stored on each entry, so the store finds a block's or a day's entries without looking at others. */
export const blockKeyOf = (charityId: string, block: number) => `${charityId}:${block}`;
/** The UTC day (YYYY-MM-DD) of an ISO time; statements read their period day by day. */
export const dayOf = (iso: string) => iso.slice(0, 10);
export const dayKeyOf = (charityId: string, day: string) => `${charityId}:${day}`;

/** An entry's issue-15 fields as read back from the store: present only when stored, so older entries read back unchanged. */
export function extensionFields(d: { agreementId?: string | null; remit?: RemitDetail | null }): Pick<LedgerEntry, 'agreementId' | 'remit'> {
  const r = d.remit;
  return {
    ...(d.agreementId ? { agreementId: d.agreementId } : {}),
    ...(r ? { remit: { remittanceId: r.remittanceId, amountFen: r.amountFen, paidAt: r.paidAt, reference: r.reference, coversFrom: r.coversFrom, coversTo: r.coversTo, ...(r.byStream ? { byStream: r.byStream } : {}), ...(r.outcome ? { outcome: r.outcome } : {}), ...(r.reason !== undefined && r.reason !== null ? { reason: r.reason } : {}) } } : {}),
  };
}
