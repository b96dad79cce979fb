import { Schema, type Connection } from 'mongoose';
import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import type { Deps } from '../deps';
import { onlyDuplicates } from '../infra/mongo';
import { blockKeyOf, blockOf, LEDGER_BLOCK_SIZE, type LedgerEntry } from './ledger.types';
import { completedNodes, DeriveAll, headId, periodDeltas, sealBlock, treeId, type HeadDoc, type PeriodDoc, type TreeDoc } from './ledger.derived';
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

  constructor(deps: Pick<Deps, 'db'>) {
    this.tree = deps.db.collection<TreeDoc | HeadDoc>(TREE_COLLECTION);
    this.periods = deps.db.collection<PeriodDoc>(PERIODS_COLLECTION);
    this.ledger = deps.db.collection<LedgerDoc>(LEDGER_COLLECTION);
  }

  /** After appending consecutive entries of one charity: period balances, newly complete blocks and nodes, then the head. */
  async afterAppend(charityId: string, entries: LedgerEntry[]): Promise<void> {
    if (!entries.length) return;
    await this.addToPeriods(charityId, entries);
    const first = blockOf(entries[0].seq);
    const last = entries[entries.length - 1];
    const lastComplete = Math.floor(last.seq / LEDGER_BLOCK_SIZE) - 1;
    for (let b = first; b <= lastComplete; b++) await this.seal(charityId, b);
    // query: tree.byId — guarded by seq: a replay (seq not lower) is a duplicate key, i.e. already done
    await this.tree.updateOne({ _id: headId(charityId), seq: { $lt: last.seq } } as never, { $set: { charityId, seq: last.seq, hash: last.hash } }, { upsert: true }).catch(ignoreDuplicate);
  }

  private async addToPeriods(charityId: string, entries: LedgerEntry[]): Promise<void> {
    const ops: AnyBulkWriteOperation<PeriodDoc>[] = periodDeltas(charityId, entries).map((d) => ({
      updateOne: {
        // query: periods.byId — counted once: a batch whose entries are already in (maxSeq ≥ its first) matches nothing and its upsert is a duplicate key
        filter: { _id: d._id, maxSeq: { $lt: d.firstSeq } },
        update: { $inc: { sumFen: d.sumFen, count: d.count }, $set: { charityId, scope: d.scope, key: d.key, maxSeq: d.maxSeq, maxHash: d.maxHash } },
        upsert: true,
      },
    }));
    for (let i = 0; i < ops.length; i += UPDATE_CHUNK) {
      const chunk = ops.slice(i, i + UPDATE_CHUNK);
      await this.periods.bulkWrite(chunk, { ordered: false }).catch((err: unknown) => { if (!onlyDuplicates(err, chunk.length)) throw err; });
    }
  }

  /** Seals block b (and any earlier block never sealed), with the Merkle nodes it completes; insert-once. */
  async seal(charityId: string, b: number): Promise<TreeDoc> {
    const stored = await this.tree.findOne({ _id: treeId(charityId, 0, b) }) as TreeDoc | null; // query: tree.byId
    if (stored) return stored;
    const prev = b > 0 ? await this.seal(charityId, b - 1) : null;
    // query: ledger.byBlock
    const entries = (await this.ledger.find({ blockKey: blockKeyOf(charityId, b) }).toArray()).map(toEntry).sort((x, y) => x.seq - y.seq);
    const block = sealBlock(charityId, b, entries, prev?.cumFen ?? 0);
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
    if (all.head.seq > 0) await this.tree.replaceOne({ _id: all.head._id }, all.head, { upsert: true }); // query: tree.byId
    return all;
  }
}
