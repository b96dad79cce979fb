import type { Collection } from 'mongodb';
import type { Deps } from '../deps';
import { blockKeyOf, dayKeyOf, extensionFields, GENESIS_HASH, type ChainHead, type LedgerEntry } from '../allocator/ledger.types';
import { readBlocks, readChain } from '../allocator/ledger.repository';
import { dayScope, headId, monthScope, treeId, type HeadDoc, type PeriodDoc, type TreeDoc } from '../allocator/ledger.derived';

/** A ledger document as the allocator stores it: _id = entry key, at a BSON Date. */
type LedgerDoc = Omit<LedgerEntry, 'key' | 'at'> & { _id: string; at: Date; blockKey: string; dayKey: string };

/** Only the hashed fields: stored display extras (masked buyer, Kafka position) never leave through here. */
export const toEntry = (d: LedgerDoc): LedgerEntry => ({
  key: d._id, charityId: d.charityId, seq: d.seq, kind: d.kind, amountFen: d.amountFen, salesFen: d.salesFen, quantity: d.quantity,
  orderId: d.orderId, streamId: d.streamId, productId: d.productId, hostId: d.hostId, eventId: d.eventId, matchId: d.matchId ?? null,
  at: d.at.toISOString(), prevHash: d.prevHash, hash: d.hash, ...extensionFields(d),
});

const DAY_MS = 86_400_000;
const bySeq = (a: LedgerEntry, b: LedgerEntry) => a.seq - b.seq;
/** Documents per cursor batch when a period is streamed. */
const STREAM_BATCH = 200;

/**
 * Read-only access to the ledger (written only by the allocator) and what derives from it. Every query
 * takes a charityId and is an equality the store answers from an index on both MongoDB and FerretDB's
 * PostgreSQL backend (README, "Queries and their indexes"): a block, a day, an order, a scope, an _id.
 * None reads more than its answer plus one block or one day.
 */
export class StatementsRepository {
  private readonly ledger: Collection<LedgerDoc>;
  private readonly tree: Collection<TreeDoc | HeadDoc>;
  private readonly periods: Collection<PeriodDoc>;

  constructor(deps: Pick<Deps, 'db'>) {
    this.ledger = deps.db.collection<LedgerDoc>('ledger');
    this.tree = deps.db.collection<TreeDoc | HeadDoc>('ledger_tree');
    this.periods = deps.db.collection<PeriodDoc>('ledger_periods');
  }

  /** One block's entries (up to BLOCK_SIZE) in seq order. */
  async block(charityId: string, block: number): Promise<LedgerEntry[]> {
    return (await this.ledger.find({ blockKey: blockKeyOf(charityId, block) }).toArray()).map(toEntry).sort(bySeq); // query: ledger.byBlock
  }

  /** The chain after a seq, block by block in seq order (a few in flight), until a block is not full: one pass. */
  async *entriesAfter(charityId: string, afterSeq: number): AsyncIterable<LedgerEntry> {
    yield* readChain((b) => this.block(charityId, b), afterSeq);
  }

  /** As `entriesAfter`, a block at a time. */
  blocksAfter(charityId: string, afterSeq: number): AsyncIterable<LedgerEntry[]> {
    return readBlocks((b) => this.block(charityId, b), afterSeq);
  }

  /** One UTC day's entries in seq order. */
  async day(charityId: string, day: string): Promise<LedgerEntry[]> {
    return (await this.ledger.find({ dayKey: dayKeyOf(charityId, day) }).toArray()).map(toEntry).sort(bySeq); // query: ledger.byDay
  }

  /** The UTC days [from, to) touches, as YYYY-MM-DD. */
  private static days(from: Date, to: Date): string[] {
    const days: string[] = [];
    for (let d = Math.floor(from.getTime() / DAY_MS) * DAY_MS; d < to.getTime(); d += DAY_MS) days.push(new Date(d).toISOString().slice(0, 10));
    return days;
  }

  /**
   * Calls `visit` for every entry with from ≤ at < to, in no particular order (what a statement's figures
   * need): one day after the other, each through a cursor read STREAM_BATCH documents at a time, none
   * collected. Memory: one cursor batch, whatever the period's or a day's size. Answers how many it visited.
   *
   * Why a callback and one day at a time: an entry handed on through an async generator per document, or
   * documents held by cursors waiting in parallel, outlive V8's young generation and are promoted; V8 lets
   * the old generation grow to ~4× the live heap before collecting it, and the API's RSS rose from 140 to
   * 290 MB streaming 100k entries that way (README, "Campaign-scale data").
   */
  async eachBetween(charityId: string, from: Date, to: Date, visit: (e: LedgerEntry) => void): Promise<number> {
    let visited = 0;
    for (const day of StatementsRepository.days(from, to)) visited += await this.eachOfDay(charityId, day, from, to, visit);
    return visited;
  }

  /** One day's entries with from ≤ at < to through a cursor, handed to `visit` as they come. */
  private async eachOfDay(charityId: string, day: string, from: Date, to: Date, visit: (e: LedgerEntry) => void): Promise<number> {
    const [f, t] = [from.getTime(), to.getTime()];
    let visited = 0;
    for await (const d of this.ledger.find({ dayKey: dayKeyOf(charityId, day) }).batchSize(STREAM_BATCH)) { // query: ledger.byDay
      const at = d.at.getTime();
      if (at >= f && at < t) { visit(toEntry(d)); visited++; }
    }
    return visited;
  }

  /**
   * Day by day: hands each entry with from ≤ at < to of that day to `visit` as it comes (as `eachBetween`),
   * then yields the day, so that a caller can put in order and flush what it kept of it (the CSV's lines).
   */
  async *daysBetween(charityId: string, from: Date, to: Date, visit: (e: LedgerEntry) => void): AsyncIterable<string> {
    for (const day of StatementsRepository.days(from, to)) {
      await this.eachOfDay(charityId, day, from, to, visit);
      yield day;
    }
  }

  /**
   * The balance of every entry dated before `t`, and the highest-numbered of them: stored month balances
   * before t's month, day balances of its month before t's day, and the entries of t's own day before t.
   */
  async balanceBefore(charityId: string, t: Date): Promise<{ sumFen: number; head: ChainHead }> {
    const iso = t.toISOString();
    const [month, day] = [iso.slice(0, 7), iso.slice(0, 10)];
    const [months, days, today] = await Promise.all([
      this.periods.find({ scope: monthScope(charityId) }).toArray(), // query: periods.byScope
      this.periods.find({ scope: dayScope(charityId, month) }).toArray(), // query: periods.byScope
      t.getTime() % DAY_MS === 0 ? Promise.resolve([]) : this.day(charityId, day),
    ]);
    let sumFen = 0;
    let head: ChainHead = { seq: 0, hash: GENESIS_HASH };
    const take = (fen: number, seq: number, hash: string) => { sumFen += fen; if (seq > head.seq) head = { seq, hash }; };
    for (const m of months) if (m.key < month) take(m.sumFen, m.maxSeq, m.maxHash);
    for (const d of days) if (d.key < day) take(d.sumFen, d.maxSeq, d.maxHash);
    for (const e of today) if (Date.parse(e.at) < t.getTime()) take(e.amountFen, e.seq, e.hash);
    return { sumFen, head };
  }

  /** An order's entries in this charity's chain. */
  async orderEntries(charityId: string, orderId: string): Promise<LedgerEntry[]> {
    return (await this.ledger.find({ orderId }).toArray()).map(toEntry).filter((e) => e.charityId === charityId).sort(bySeq); // query: ledger.byOrder
  }

  /**
   * The head the allocator published: the highest maxSeq of the charity's month balances, which the allocator moves
   * last, after the blocks and days under it (every derived document up to it is stored). A charity whose ledger
   * predates month balances (until `livegive rebuild-derived`) has the head document written then.
   */
  async head(charityId: string): Promise<ChainHead> {
    const months = await this.periods.find({ scope: monthScope(charityId) }, { projection: { maxSeq: 1, maxHash: 1 } }).toArray(); // query: periods.byScope
    let head: ChainHead = { seq: 0, hash: GENESIS_HASH };
    for (const m of months) if (m.maxSeq > head.seq) head = { seq: m.maxSeq, hash: m.maxHash };
    if (head.seq > 0) return head;
    const h = await this.tree.findOne({ _id: headId(charityId) }) as HeadDoc | null; // query: tree.byId
    return h ? { seq: h.seq, hash: h.hash } : head;
  }

  /** Stored Merkle nodes (level 0: sealed blocks) by position; null where none is stored. One _id read each, in parallel. */
  async nodes(charityId: string, wanted: Array<{ level: number; index: number }>): Promise<Array<TreeDoc | null>> {
    return Promise.all(wanted.map((w) => this.tree.findOne({ _id: treeId(charityId, w.level, w.index) }) as Promise<TreeDoc | null>)); // query: tree.byId
  }
}
