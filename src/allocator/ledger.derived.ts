import { nodeHash, perfectRoot } from '../statements/merkle';
import { GENESIS_HASH, LEDGER_BLOCK_SIZE, dayOf, type LedgerEntry } from './ledger.types';

/**
 * Documents derived from the ledger, so that no read walks it: per-period balances, block roots (with the
 * block's leaves and running total), Merkle nodes over blocks and the chain head. Written by the owner of
 * the charity's partition right after its entries, insert-once or guarded by seq so a retry changes
 * nothing, and all of them recomputable from the ledger alone (`deriveAll`). Pure: no I/O.
 */

/** A completed block (level 0) or a perfect subtree of 2^level blocks. */
export interface TreeDoc {
  _id: string;
  charityId: string;
  level: number;
  index: number;
  root: string;
  /** level 0 only: the block's first and last seq, last entry hash, sum, running total through it, leaves and amounts */
  firstSeq?: number;
  lastSeq?: number;
  lastHash?: string;
  sumFen?: number;
  cumFen?: number;
  leaves?: string;
  amounts?: string;
}

/** The chain head as last published by the allocator: everything derived up to `seq` is stored. */
export interface HeadDoc { _id: string; charityId: string; seq: number; hash: string }

/** The balance of a charity's entries dated in one UTC day (`D`) or month (`M`). */
export interface PeriodDoc {
  _id: string;
  charityId: string;
  /** `<charity>:M` for months, `<charity>:D:<YYYY-MM>` for the days of one month: one equality read each */
  scope: string;
  key: string;
  sumFen: number;
  count: number;
  /** the highest seq counted in, and its hash: the guard against counting a batch twice, and the head as of the period */
  maxSeq: number;
  maxHash: string;
}

export const treeId = (charityId: string, level: number, index: number) => `${charityId}:n:${level}:${index}`;
export const headId = (charityId: string) => `${charityId}:head`;
export const monthScope = (charityId: string) => `${charityId}:M`;
export const dayScope = (charityId: string, month: string) => `${charityId}:D:${month}`;
export const periodId = (charityId: string, level: 'D' | 'M', key: string) => `${charityId}:${level}:${key}`;

/**
 * The period balances a run of consecutive entries adds to, with the lowest seq of each (the guard): every day
 * before any month, the order the allocator writes them in (a month's maxSeq is the published head).
 */
export function periodDeltas(charityId: string, entries: LedgerEntry[]): Array<PeriodDoc & { firstSeq: number }> {
  const days = new Map<string, PeriodDoc & { firstSeq: number }>();
  const months = new Map<string, PeriodDoc & { firstSeq: number }>();
  for (const e of entries) {
    const day = dayOf(e.at);
    const month = day.slice(0, 7);
    for (const [out, level, key, scope] of [[days, 'D', day, dayScope(charityId, month)], [months, 'M', month, monthScope(charityId)]] as const) {
      const id = periodId(charityId, level, key);
      const d = out.get(id) ?? out.set(id, { _id: id, charityId, scope, key, sumFen: 0, count: 0, maxSeq: 0, maxHash: GENESIS_HASH, firstSeq: e.seq }).get(id)!;
      d.sumFen += e.amountFen;
      d.count += 1;
      d.firstSeq = Math.min(d.firstSeq, e.seq);
      if (e.seq > d.maxSeq) { d.maxSeq = e.seq; d.maxHash = e.hash; }
    }
  }
  return [...days.values(), ...months.values()];
}

/** The level-0 tree document of a complete block, from its entries in seq order and the running total before it. */
export function sealBlock(charityId: string, index: number, entries: LedgerEntry[], cumBeforeFen: number): TreeDoc {
  if (entries.length !== LEDGER_BLOCK_SIZE || entries.some((e, i) => e.seq !== index * LEDGER_BLOCK_SIZE + i + 1)) throw new Error(`block ${index} of ${charityId} is not complete`);
  const leaves = entries.map((e) => e.hash);
  const amounts = entries.map((e) => e.amountFen);
  const sumFen = amounts.reduce((s, x) => s + x, 0);
  // a block is a perfect subtree, aligned: its root depends on its leaves only (perfectRoot = subtreeRoot over them)
  const root = perfectRoot(leaves).toString('hex');
  return {
    _id: treeId(charityId, 0, index), charityId, level: 0, index, root, firstSeq: entries[0].seq, lastSeq: entries[entries.length - 1].seq,
    lastHash: leaves[leaves.length - 1], sumFen, cumFen: cumBeforeFen + sumFen, leaves: leaves.join(''), amounts: amounts.join(','),
  };
}

/**
 * The Merkle nodes a newly sealed block completes: for each level k where the block ends a run of 2^k
 * blocks, the node over that run. `rootAt(level, index)` answers roots already known (stored or made here).
 */
export function completedNodes(charityId: string, block: TreeDoc, rootAt: (level: number, index: number) => string | undefined): TreeDoc[] {
  const out: TreeDoc[] = [];
  let right = block.root;
  for (let level = 1, index = block.index; index % 2 === 1; level++) {
    const left = rootAt(level - 1, index - 1);
    if (!left) throw new Error(`node ${level - 1}:${index - 1} of ${charityId} is missing`);
    index = (index - 1) / 2;
    right = nodeHash(Buffer.from(left, 'hex'), Buffer.from(right, 'hex')).toString('hex');
    out.push({ _id: treeId(charityId, level, index), charityId, level, index, root: right });
  }
  return out;
}

/** Every derived document of one charity, recomputed from its whole chain in seq order (rebuilds and checks). */
export class DeriveAll {
  readonly periods = new Map<string, PeriodDoc>();
  readonly tree = new Map<string, TreeDoc>();
  head: HeadDoc;
  private block: LedgerEntry[] = [];
  private cumFen = 0;

  constructor(readonly charityId: string) {
    this.head = { _id: headId(charityId), charityId, seq: 0, hash: GENESIS_HASH };
  }

  add(e: LedgerEntry): void {
    for (const { firstSeq: _f, ...d } of periodDeltas(this.charityId, [e])) {
      const cur = this.periods.get(d._id);
      this.periods.set(d._id, cur ? { ...cur, sumFen: cur.sumFen + d.sumFen, count: cur.count + 1, maxSeq: d.maxSeq, maxHash: d.maxHash } : d);
    }
    this.head = { ...this.head, seq: e.seq, hash: e.hash };
    this.block.push(e);
    if (this.block.length === LEDGER_BLOCK_SIZE) {
      const b = sealBlock(this.charityId, Math.floor((e.seq - 1) / LEDGER_BLOCK_SIZE), this.block, this.cumFen);
      this.cumFen = b.cumFen!;
      this.tree.set(b._id, b);
      for (const n of completedNodes(this.charityId, b, (l, i) => this.tree.get(treeId(this.charityId, l, i))?.root)) this.tree.set(n._id, n);
      this.block = [];
    }
  }
}
