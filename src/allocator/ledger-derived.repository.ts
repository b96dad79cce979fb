import { Schema, type Connection } from 'mongoose';
import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import type { Deps } from '../deps';
import { onlyDuplicates } from '../infra/mongo';
import { blockKeyOf, blockOf, LEDGER_BLOCK_SIZE, type LedgerEntry } from './ledger.types';
import { completedNodes, DeriveAll, periodDeltas, sealBlock, treeId, type HeadDoc, type PeriodDoc, type TreeDoc } from './ledger.derived';
import { LEDGER_COLLECTION, toEntry, type LedgerDoc } from './ledger.repository';

export const TREE_COLLECTION = 'ledger_tree';
export const PERIODS_COLLECTION = 'ledger_periods';

export function registerDerivedModels(conn: Connection): void {
  if (conn.models.LedgerTree) return;
  // block roots, Merkle nodes and chain heads are read by _id only (query: tree.byId)
  conn.model('LedgerTree', new Schema({ _id: String }, { strict: false, versionKey: false, _id: false, collection: TREE_COLLECTION }));
  const p = new Schema({ _id: String, charityId: String, scope: String, key: String, sumFen: Number, count: Number, maxSeq: Number, maxHash: String }, { versionKey: false, _id: false, collection: PERIODS_COLLECTION });
  p.index({ scope: 1 }); // query: periods.byScope (a charity's months, one month's days)
  conn.model('LedgerPeriod', p);
}

/** The stored data sealing a run of entries starts from: its first block's earlier entries, and the block before. */
export interface SealInputs { prior: LedgerEntry[]; prev: TreeDoc | null; roots: Map<string, string> }

/**
 * What this process knows of a charity's chain where its last append ended (at `seq`, `hash`): the entries of the
 * block still open (`tail`, up to 63), the sealed block before it (`prev`; null before block 1, undefined when not
 * known) and the roots that later blocks pair with (the Merkle frontier). The next batch of the chain's one writer
 * starts right there, so sealing its blocks reads nothing: on FerretDB those reads cost more store CPU than the
 * inserts of the blocks (a block's entries 6.6 ms, a document by _id 2.9 ms). Trusted only for a batch whose first
 * entry links to `hash` at `seq` + 1; anything else (another process wrote meanwhile, a retry after a rebuild) reads.
 */
interface Frontier { seq: number; hash: string; tail: LedgerEntry[]; prev: TreeDoc | null | undefined; roots: Map<string, string> }
/** Charities whose frontier a process keeps (the least recently appended go first): ~63 entries each. */
const FRONTIERS_KEPT = 1_000;
const frontiersByDb = new WeakMap<object, Map<string, Frontier>>();

const ignoreDuplicate = (e: { code?: number }) => { if (e.code !== 11000) throw e; };
// below pgx's pool size: an update command of that many statements never answers on FerretDB (FERRETDB.md)
const UPDATE_CHUNK = 32;

/**
 * Writes the documents derived from a charity's new entries (ledger.derived.ts). Called by the single
 * writer of the charity's chain after its entries are durable and before the chain head moves in Redis, so
 * a crash in between is repaired by the retry of the same batch: every write here is insert-once or guarded
 * by seq, and a repeat is a no-op.
 */
export class LedgerDerivedRepository {
  readonly tree: Collection<TreeDoc | HeadDoc>;
  readonly periods: Collection<PeriodDoc>;
  readonly ledger: Collection<LedgerDoc>;

  private readonly frontiers: Map<string, Frontier>;

  constructor(deps: Pick<Deps, 'db'>) {
    let f = frontiersByDb.get(deps.db);
    if (!f) frontiersByDb.set(deps.db, (f = new Map()));
    this.frontiers = f;
    this.tree = deps.db.collection<TreeDoc | HeadDoc>(TREE_COLLECTION);
    this.periods = deps.db.collection<PeriodDoc>(PERIODS_COLLECTION);
    this.ledger = deps.db.collection<LedgerDoc>(LEDGER_COLLECTION);
  }

  /**
   * What sealing a run of entries needs from before it (the start of its first block, the block before it):
   * stored data only, so the allocator reads it while the run's own ledger insert is in flight.
   */
  before(charityId: string, entries: LedgerEntry[]): Promise<SealInputs | null> {
    if (!entries.length) return Promise.resolve(null);
    const first = blockOf(entries[0].seq);
    const lastComplete = Math.floor(entries[entries.length - 1].seq / LEDGER_BLOCK_SIZE) - 1;
    if (lastComplete < first) return Promise.resolve(null);
    const startSeq = first * LEDGER_BLOCK_SIZE + 1;
    // where this process's last append of the chain ended, if this run starts right there: nothing to read but what it lacks
    const f = this.frontierAt(charityId, entries[0]);
    const known = f?.roots ?? new Map<string, string>();
    // the left siblings the new blocks' nodes will need that cover only blocks before the run: stored, read by _id at once
    const lefts = new Set<string>();
    for (let b = first; b <= lastComplete; b++) {
      for (let level = 0, index = b; index % 2 === 1; level++, index = (index - 1) / 2) if (index * 2 ** level <= first && !known.has(treeId(charityId, level, index - 1))) lefts.add(treeId(charityId, level, index - 1));
    }
    return Promise.all([
      entries[0].seq === startSeq ? Promise.resolve([]) : f ? Promise.resolve(f.tail) : this.blockEntries(charityId, first).then((es) => es.filter((e) => e.seq < entries[0].seq)),
      first === 0 ? Promise.resolve(null) : f?.prev !== undefined ? Promise.resolve(f.prev) : this.seal(charityId, first - 1),
      Promise.all([...lefts].map((id) => this.tree.findOne({ _id: id }) as Promise<TreeDoc | null>)), // query: tree.byId
    ]).then(([prior, prev, found]) => ({ prior, prev, roots: new Map([...known, ...found.filter((d) => d !== null).map((d) => [d._id, d.root] as const)]) }));
  }

  /** The frontier kept for this charity if `first` (a run's first entry) follows it directly; else none. */
  private frontierAt(charityId: string, first: LedgerEntry): Frontier | undefined {
    const f = this.frontiers.get(charityId);
    if (f && f.seq + 1 === first.seq && f.hash === first.prevHash) return f;
    return undefined;
  }

  /**
   * After a run's derived documents are stored: where the chain now ends. `prior` is the run's first block's earlier
   * entries if known (read by before(), or the frontier the run started from); `sealed`, the blocks the run sealed and
   * every root known then. Without the prior entries the frontier is dropped (the next batch reads, as it did before).
   */
  private advance(charityId: string, entries: LedgerEntry[], prior: LedgerEntry[] | undefined, start: Frontier | undefined, sealed: { blocks: TreeDoc[]; known: Map<string, string> } | null): void {
    this.frontiers.delete(charityId); // re-inserted last: the map's order is the order of last use
    if (!prior) return;
    const last = entries[entries.length - 1];
    const open = Math.floor(last.seq / LEDGER_BLOCK_SIZE); // the block the next entry opens or continues
    const run = prior.length ? [...prior, ...entries] : entries;
    const tail = run.slice(run.length - (last.seq - open * LEDGER_BLOCK_SIZE));
    let prev: TreeDoc | null | undefined;
    let roots: Map<string, string>;
    if (sealed?.blocks.length) {
      prev = sealed.blocks[sealed.blocks.length - 1];
      // the roots a later block pairs with: for each set bit k of the count of sealed blocks, the node over the last 2^k of them
      roots = new Map();
      for (let level = 0; open >> level > 0; level++) {
        if (((open >> level) & 1) === 0) continue;
        const id = treeId(charityId, level, (open >> level) - 1);
        const root = sealed.known.get(id);
        if (root !== undefined) roots.set(id, root);
      }
    } else {
      prev = open === 0 ? null : start?.prev;
      roots = start?.roots ?? new Map();
    }
    this.frontiers.set(charityId, { seq: last.seq, hash: last.hash, tail, prev, roots });
    if (this.frontiers.size > FRONTIERS_KEPT) this.frontiers.delete(this.frontiers.keys().next().value!);
  }

  /**
   * After appending consecutive entries of one charity: the blocks and nodes they complete, then their day balances,
   * then their month balances. The month balances' highest maxSeq is the published head (StatementsRepository.head),
   * so every derived document up to it is stored once it moves; it used to be a document of its own, one more
   * update command per batch. `before` is what `before()` read, if it ran.
   */
  async afterAppend(charityId: string, entries: LedgerEntry[], before?: Promise<SealInputs | null>): Promise<void> {
    if (!entries.length) return;
    const start = this.frontierAt(charityId, entries[0]);
    const inputs = before ?? this.before(charityId, entries);
    const sealed = await this.sealCompleted(charityId, entries, inputs);
    await this.addToPeriods(charityId, entries);
    const startsBlock = (entries[0].seq - 1) % LEDGER_BLOCK_SIZE === 0;
    this.advance(charityId, entries, startsBlock ? [] : (await inputs)?.prior ?? start?.tail, start, sealed);
  }

  /**
   * Seals the blocks this run of entries completes, mostly from memory: reads only the start of the first
   * block (entries from before the run), the block before it (running total) and left siblings from before
   * the run; then one unordered insert of the new block and node documents (duplicates: a replay).
   */
  private async sealCompleted(charityId: string, entries: LedgerEntry[], before: Promise<SealInputs | null>): Promise<{ blocks: TreeDoc[]; known: Map<string, string> } | null> {
    const inputs = await before;
    if (!inputs) return null;
    const { prior, prev, roots } = inputs;
    const first = blockOf(entries[0].seq);
    const lastComplete = Math.floor(entries[entries.length - 1].seq / LEDGER_BLOCK_SIZE) - 1;
    const run = [...prior, ...entries];
    const known = new Map(roots);
    const docs: TreeDoc[] = [];
    const blocks: TreeDoc[] = [];
    let cum = prev?.cumFen ?? 0;
    for (let b = first; b <= lastComplete; b++) {
      const block = sealBlock(charityId, b, run.slice((b - first) * LEDGER_BLOCK_SIZE, (b - first + 1) * LEDGER_BLOCK_SIZE), cum);
      cum = block.cumFen!;
      blocks.push(block);
      known.set(block._id, block.root);
      for (let level = 0, index = b; index % 2 === 1; level++, index = (index - 1) / 2) {
        const left = treeId(charityId, level, index - 1);
        if (!known.has(left)) {
          const doc = await this.tree.findOne({ _id: left }) as TreeDoc | null; // query: tree.byId
          if (doc) known.set(left, doc.root);
        }
      }
      const nodes = completedNodes(charityId, block, (level, index) => known.get(treeId(charityId, level, index)));
      for (const n of nodes) known.set(n._id, n.root);
      docs.push(block, ...nodes);
    }
    await this.tree.insertMany(docs, { ordered: false }).catch((err: unknown) => { if (!onlyDuplicates(err, docs.length)) throw err; });
    return { blocks, known };
  }

  private async blockEntries(charityId: string, b: number): Promise<LedgerEntry[]> {
    // query: ledger.byBlock
    return (await this.ledger.find({ blockKey: blockKeyOf(charityId, b) }).toArray()).map(toEntry).sort((x, y) => x.seq - y.seq);
  }

  private async addToPeriods(charityId: string, entries: LedgerEntry[]): Promise<void> {
    // multi (updateMany) although the filter names one _id: FerretDB holds a pooled connection per non-multi statement until the command ends (FERRETDB.md)
    const ops: AnyBulkWriteOperation<PeriodDoc>[] = periodDeltas(charityId, entries).map((d) => ({
      updateMany: {
        // query: periods.byId — counted once: a batch whose entries are already in (maxSeq ≥ its first) matches nothing and its upsert is a duplicate key
        filter: { _id: d._id, maxSeq: { $lt: d.firstSeq } },
        update: { $inc: { sumFen: d.sumFen, count: d.count }, $set: { charityId, scope: d.scope, key: d.key, maxSeq: d.maxSeq, maxHash: d.maxHash } },
        upsert: true,
      },
    }));
    // in order (days first), so a month never moves ahead of its days; an ordered write stops at its first duplicate key (a balance
    // a replay of this batch already added to), and the rest goes on from the one after it
    for (let rest = ops; rest.length;) {
      const chunk = rest.slice(0, UPDATE_CHUNK);
      try {
        await this.periods.bulkWrite(chunk, { ordered: true });
        rest = rest.slice(chunk.length);
      } catch (err) {
        const dups = onlyDuplicates(err, chunk.length);
        if (!dups?.length) throw err;
        rest = rest.slice(Math.min(...dups) + 1);
      }
    }
  }

  /** Block b's document: stored, or sealed now from the ledger (and any earlier block never sealed), with the nodes it completes. */
  async seal(charityId: string, b: number): Promise<TreeDoc> {
    const stored = await this.tree.findOne({ _id: treeId(charityId, 0, b) }) as TreeDoc | null; // query: tree.byId
    if (stored) return stored;
    const prev = b > 0 ? await this.seal(charityId, b - 1) : null;
    const block = sealBlock(charityId, b, await this.blockEntries(charityId, b), prev?.cumFen ?? 0);
    const known = new Map<string, string>([[block._id, block.root]]);
    const rootAt = (level: number, index: number) => known.get(treeId(charityId, level, index));
    for (let level = 0, index = b; index % 2 === 1; level++, index = (index - 1) / 2) {
      const left = await this.tree.findOne({ _id: treeId(charityId, level, index - 1) }) as TreeDoc | null; // query: tree.byId
      if (left) known.set(left._id, left.root);
    }
    const docs = [block, ...completedNodes(charityId, block, rootAt)];
    for (const d of docs) await this.tree.insertOne(d).catch(ignoreDuplicate);
    return block;
  }

  /**
   * Recomputes every derived document of a charity from its chain (read block by block) and replaces the
   * stored ones: for data written before these documents existed, or after a repair. Answers what it wrote.
   */
  async rebuild(charityId: string, chain: AsyncIterable<LedgerEntry>): Promise<DeriveAll> {
    const all = new DeriveAll(charityId);
    for await (const e of chain) all.add(e);
    // query: periods.byScope is how readers find them; here each is replaced by _id
    for (const d of all.periods.values()) await this.periods.replaceOne({ _id: d._id }, d, { upsert: true }); // query: periods.byId
    for (const d of all.tree.values()) await this.tree.replaceOne({ _id: d._id }, d, { upsert: true }); // query: tree.byId
    // the head is the month balances' highest maxSeq now: a head document from before is left alone (read only without them)
    return all;
  }
}
