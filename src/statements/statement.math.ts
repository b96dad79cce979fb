import { createHash } from 'node:crypto';
import type { EntryKind, LedgerEntry } from '../allocator/ledger.types';
import { GENESIS_HASH } from '../allocator/ledger.types';

/**
 * Statement math, pure and order-independent: entries may arrive in any order (the store need not
 * sort a million rows), memory is O(streams + hosts + products), never O(entries).
 */
export type StatementEntry = Pick<LedgerEntry, 'seq' | 'kind' | 'amountFen' | 'quantity' | 'streamId' | 'productId' | 'hostId' | 'at' | 'hash' | 'agreementId' | 'remit'>;

/** A remittance or acknowledgement entry as a statement lists it (issue 15). */
export interface StatementRemit {
  seq: number; kind: 'remittance' | 'acknowledgement'; at: string; agreementId: string; remittanceId: string; amountFen: number;
  paidAt: string; reference: string; coversFrom: number; coversTo: number; outcome?: 'acknowledged' | 'disputed'; reason?: string;
}

export interface Figures { entries: number; units: number; allocatedFen: number; reversedFen: number; matchedFen: number; matchReversedFen: number; netFen: number }
export interface StatementNames {
  charity?: { name: string; registrationNo: string };
  streams: Map<string, { title: string }>;
  hosts: Map<string, { name: string }>;
  products: Map<string, { name: string }>;
}

/** The statement for [from, to): amounts in signed fen, reversals negative; closing = opening + the period's figures. */
export interface Statement {
  charityId: string;
  charityName: string;
  registrationNo: string;
  from: string;
  to: string;
  openingFen: number;
  allocatedFen: number;
  reversedFen: number;
  matchedFen: number;
  matchReversedFen: number;
  closingFen: number;
  entries: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** the chain's head as of `to`: the highest-numbered entry before `to` */
  headSeq: number;
  headHash: string;
  byStream: Array<{ streamId: string; title: string } & Figures>;
  byHost: Array<{ hostId: string; name: string } & Figures>;
  byProduct: Array<{ productId: string; name: string } & Figures>;
  /** the period's remittances and acknowledgements in seq order; absent when there are none (older statements keep their digests) */
  remittances?: StatementRemit[];
  /** SHA-256 of this statement's JSON without the digest: two copies agree iff their digests do */
  digest: string;
}

const kindField: Record<Exclude<EntryKind, 'remittance' | 'acknowledgement'>, 'allocatedFen' | 'reversedFen' | 'matchedFen' | 'matchReversedFen'> = {
  allocation: 'allocatedFen', reversal: 'reversedFen', match: 'matchedFen', match_reversal: 'matchReversedFen',
};

const zero = (): Figures => ({ entries: 0, units: 0, allocatedFen: 0, reversedFen: 0, matchedFen: 0, matchReversedFen: 0, netFen: 0 });

function addTo(f: Figures, e: StatementEntry): void {
  f.entries += 1;
  if (e.kind === 'remittance' || e.kind === 'acknowledgement') return; // amount 0: counted as an entry, listed apart
  f.units += e.quantity;
  f[kindField[e.kind]] += e.amountFen;
  f.netFen += e.amountFen;
}

/** Accumulates entries for one charity and period; feed it every entry with at < to (any order). */
export class StatementAccumulator {
  private openingFen = 0;
  private readonly total = zero();
  private firstSeq: number | null = null;
  private lastSeq: number | null = null;
  private head = { seq: 0, hash: GENESIS_HASH };
  private readonly byStream = new Map<string, Figures>();
  private readonly byHost = new Map<string, Figures>();
  private readonly byProduct = new Map<string, Figures>();
  private readonly remits: StatementRemit[] = [];
  private readonly fromMs: number;
  private readonly toMs: number;

  constructor(readonly charityId: string, readonly from: Date, readonly to: Date) {
    this.fromMs = from.getTime();
    this.toMs = to.getTime();
  }

  /** Everything dated before `from`, summed elsewhere (stored period balances), and the highest-numbered of it. */
  addOpening(sumFen: number, head: { seq: number; hash: string }): void {
    this.openingFen += sumFen;
    if (head.seq > this.head.seq) this.head = { ...head };
  }

  add(e: StatementEntry): void {
    const t = Date.parse(e.at);
    if (!(t < this.toMs)) return;
    if (e.seq > this.head.seq) this.head = { seq: e.seq, hash: e.hash };
    if (t < this.fromMs) {
      this.openingFen += e.amountFen;
      return;
    }
    addTo(this.total, e);
    if (this.firstSeq === null || e.seq < this.firstSeq) this.firstSeq = e.seq;
    if (this.lastSeq === null || e.seq > this.lastSeq) this.lastSeq = e.seq;
    if (e.remit && (e.kind === 'remittance' || e.kind === 'acknowledgement')) {
      this.remits.push({ seq: e.seq, kind: e.kind, at: e.at, agreementId: e.agreementId ?? '', ...e.remit });
      return;
    }
    for (const [map, id] of [[this.byStream, e.streamId], [this.byHost, e.hostId], [this.byProduct, e.productId]] as const) {
      let f = map.get(id);
      if (!f) map.set(id, (f = zero()));
      addTo(f, e);
    }
  }

  /** Ids the names must be looked up for (one batched read per kind). */
  ids() {
    return { streamIds: [...this.byStream.keys()], hostIds: [...this.byHost.keys()], productIds: [...this.byProduct.keys()] };
  }

  finish(names: StatementNames): Statement {
    const rows = <K extends string, N extends string>(map: Map<string, Figures>, idKey: K, nameKey: N, name: (id: string) => string) =>
      [...map.entries()]
        .sort(([a, fa], [b, fb]) => fb.netFen - fa.netFen || (a < b ? -1 : a > b ? 1 : 0))
        .map(([id, f]) => ({ [idKey]: id, [nameKey]: name(id), ...f }) as Record<K | N, string> & Figures);
    const t = this.total;
    const body: Omit<Statement, 'digest'> = {
      charityId: this.charityId,
      charityName: names.charity?.name ?? '',
      registrationNo: names.charity?.registrationNo ?? '',
      from: this.from.toISOString(),
      to: this.to.toISOString(),
      openingFen: this.openingFen,
      allocatedFen: t.allocatedFen,
      reversedFen: t.reversedFen,
      matchedFen: t.matchedFen,
      matchReversedFen: t.matchReversedFen,
      closingFen: this.openingFen + t.netFen,
      entries: t.entries,
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      headSeq: this.head.seq,
      headHash: this.head.hash,
      byStream: rows(this.byStream, 'streamId', 'title', (id) => names.streams.get(id)?.title ?? ''),
      byHost: rows(this.byHost, 'hostId', 'name', (id) => names.hosts.get(id)?.name ?? ''),
      byProduct: rows(this.byProduct, 'productId', 'name', (id) => names.products.get(id)?.name ?? ''),
      ...(this.remits.length ? { remittances: [...this.remits].sort((a, b) => a.seq - b.seq) } : {}),
    };
    return { ...body, digest: statementDigest(body) };
  }
}

/** SHA-256 of the statement's JSON in its fixed field order, without the digest field. */
export function statementDigest(s: Omit<Statement, 'digest'> | Statement): string {
  const { digest: _d, ...body } = s as Statement;
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

const MAX_PERIOD_YEARS = 3;

/** Validates a period: from ≤ to and at most three calendar years long; answers the problem or null. */
export function periodProblem(from: Date, to: Date): { field: string; message: string } | null {
  if (Number.isNaN(from.getTime())) return { field: 'query.from', message: 'must be an ISO 8601 time' };
  if (Number.isNaN(to.getTime())) return { field: 'query.to', message: 'must be an ISO 8601 time' };
  if (from.getTime() > to.getTime()) return { field: 'query.from', message: 'must not be after to' };
  const limit = new Date(from.getTime());
  limit.setUTCFullYear(limit.getUTCFullYear() + MAX_PERIOD_YEARS);
  if (to.getTime() > limit.getTime()) return { field: 'query.to', message: `the period must not exceed ${MAX_PERIOD_YEARS} years` };
  return null;
}
