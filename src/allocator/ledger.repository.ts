import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import type { Deps } from '../deps';
import type { EntryKind, LedgerEntry } from './ledger.types';
import type { EntryDisplay } from './totals';
import { ChainConflict } from './totals.store';
import { onlyDuplicates } from '../infra/mongo';

/** A stored entry: the hashed fields, plus display names and the Kafka position (neither is hashed). */
export interface LedgerDoc extends Omit<LedgerEntry, 'key' | 'at'>, EntryDisplay {
  _id: string;
  at: Date;
  partition: number;
  offset: number;
}

export const LEDGER_COLLECTION = 'ledger';

export function registerLedgerModel(conn: Connection): void {
  if (conn.models.LedgerEntry) return;
  const s = new Schema<LedgerDoc>({
    _id: String, charityId: String, seq: Number, kind: String, amountFen: Number, salesFen: Number, quantity: Number,
    orderId: String, streamId: String, productId: String, hostId: String, eventId: String, matchId: String, at: Date,
    prevHash: String, hash: String, charityName: String, productName: String, buyer: String, partition: Number, offset: Number,
  }, { versionKey: false, _id: false, collection: LEDGER_COLLECTION });
  // one entry per (charity, seq): the chain's order, ledger pages, and a second writer's fork refused
  s.index({ charityId: 1, seq: 1 }, { unique: true });
  // receipts and order donation status look entries up by order
  s.index({ orderId: 1 });
  conn.model('LedgerEntry', s);
}

export const toEntry = (d: LedgerDoc): LedgerEntry => ({
  key: d._id, charityId: d.charityId, seq: d.seq, kind: d.kind as EntryKind, amountFen: d.amountFen, salesFen: d.salesFen,
  quantity: d.quantity, orderId: d.orderId, streamId: d.streamId, productId: d.productId, hostId: d.hostId, eventId: d.eventId,
  matchId: d.matchId ?? null, at: d.at.toISOString(), prevHash: d.prevHash, hash: d.hash,
});

/**
 * The append-only ledger: `append` and reads, no update. The _id is the entry key (eventId:kind[:matchId]),
 * so a redelivered event can never be stored twice.
 */
export class LedgerRepository {
  readonly coll: Collection<LedgerDoc>;
  constructor(deps: Pick<Deps, 'db'>) {
    this.coll = deps.db.collection<LedgerDoc>(LEDGER_COLLECTION);
  }

  /**
   * Inserts entries in one unordered bulk insert. Duplicates are fine only if they are the very same
   * entries (a retry after a crash recomputes identical ones); anything else is a fork, refused.
   */
  async append(entries: { entry: LedgerEntry; display: EntryDisplay; partition: number; offset: number }[]): Promise<number> {
    if (!entries.length) return 0;
    const docs: LedgerDoc[] = entries.map(({ entry: { key, at, ...e }, display, partition, offset }) => ({ _id: key, ...e, at: new Date(at), ...display, partition, offset }));
    try {
      await this.coll.insertMany(docs, { ordered: false });
      return docs.length;
    } catch (err) {
      const dups = onlyDuplicates(err, docs.length);
      if (!dups) throw err;
      const dupIds = dups.map((i) => docs[i]._id);
      const found = new Map((await this.coll.find({ _id: { $in: dupIds } }, { projection: { hash: 1, seq: 1 } }).toArray()).map((d) => [d._id, d]));
      const mine = new Map(docs.map((d) => [d._id, d]));
      const fork = dupIds.find((id) => found.get(id)?.hash !== mine.get(id)!.hash);
      if (fork) throw new ChainConflict(`ledger entry ${fork} clashes with a stored entry`);
      return docs.length - dupIds.length;
    }
  }

  /** One page of a charity's chain, after `after`, in seq order. */
  async page(charityId: string, after: number, limit: number): Promise<LedgerEntry[]> {
    const docs = await this.coll.find({ charityId, seq: { $gt: after } }).sort({ seq: 1 }).limit(limit).toArray();
    return docs.map(toEntry);
  }

  /** Every stored entry, for rebuilds and checks (one pass, in store order). */
  all(): AsyncIterable<LedgerDoc> {
    return this.coll.find({}).batchSize(10_000);
  }
}
