import type { Collection, Filter } from 'mongodb';
import { Schema, type Connection } from 'mongoose';
import type { Deps } from '../deps';
import type { LedgerEntry } from '../allocator/ledger.types';
import type { StatementEntry } from './statement.math';

/** A ledger document as the allocator stores it: _id = entry key, at a BSON Date. */
type LedgerDoc = Omit<LedgerEntry, 'key' | 'at'> & { _id: string; at: Date };

/** A completed block of BLOCK_SIZE entries, cached once: its Merkle root, sum and leaves. Never updated. */
export interface BlockDoc {
  _id: string;
  charityId: string;
  index: number;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
  root: string;
  sumFen: number;
  /** the block's entry hashes, concatenated hex (64 characters each), for proofs inside the block */
  leaves: string;
  /** the block's entry amounts in fen, comma-separated, for totals at a seq inside the block */
  amounts: string;
}
export type BlockSummary = Pick<BlockDoc, 'index' | 'lastSeq' | 'lastHash' | 'root' | 'sumFen'>;

export const BLOCKS = 'statement_blocks';

export function registerStatementModels(conn: Connection): void {
  if (conn.models.StatementBlock) return;
  const s = new Schema<BlockDoc>({ _id: String, charityId: String, index: Number, firstSeq: Number, lastSeq: Number, lastHash: String, root: String, sumFen: Number, leaves: String, amounts: String }, { versionKey: false, _id: false, collection: BLOCKS });
  s.index({ charityId: 1, index: 1 }, { unique: true }); // a charity's blocks in order (public head, receipts)
  conn.model('StatementBlock', s);
}

const periodProjection = { _id: 0, seq: 1, kind: 1, amountFen: 1, quantity: 1, streamId: 1, productId: 1, hostId: 1, at: 1, hash: 1 } as const;

/** Only the hashed fields: stored display extras (masked buyer, Kafka position) never leave through here. */
export const toEntry = (d: LedgerDoc): LedgerEntry => ({
  key: d._id, charityId: d.charityId, seq: d.seq, kind: d.kind, amountFen: d.amountFen, salesFen: d.salesFen, quantity: d.quantity,
  orderId: d.orderId, streamId: d.streamId, productId: d.productId, hostId: d.hostId, eventId: d.eventId, matchId: d.matchId ?? null,
  at: d.at.toISOString(), prevHash: d.prevHash, hash: d.hash,
});

/**
 * Read-only access to the ledger (written only by the allocator) and the block cache. Every query takes
 * a charityId. On the MongoDB-wire test server every ledger query is a full scan (measured), so each
 * use case issues as few as possible.
 */
export class StatementsRepository {
  private readonly ledger: Collection<LedgerDoc>;
  private readonly blocks: Collection<BlockDoc>;

  constructor(deps: Pick<Deps, 'db'>) {
    this.ledger = deps.db.collection<LedgerDoc>('ledger');
    this.blocks = deps.db.collection<BlockDoc>(BLOCKS);
  }

  /** Entries with at < to, in no particular order (statement math does not need one; sorting would cost the server). */
  async *entriesBefore(charityId: string, to: Date): AsyncIterable<StatementEntry> {
    const cur = this.ledger.find({ charityId, at: { $lt: to } }, { projection: periodProjection, batchSize: 5000 });
    for await (const d of cur) {
      yield { seq: d.seq, kind: d.kind, amountFen: d.amountFen, quantity: d.quantity, streamId: d.streamId, productId: d.productId, hostId: d.hostId, at: (d.at as Date).toISOString(), hash: d.hash } as StatementEntry;
    }
  }

  /** Entries with from ≤ at < to in seq order (the CSV lists them). */
  async *entriesBetween(charityId: string, from: Date, to: Date): AsyncIterable<LedgerEntry> {
    const cur = this.ledger.find({ charityId, at: { $gte: from, $lt: to } }).sort({ seq: 1 }).batchSize(5000);
    for await (const d of cur) yield toEntry(d);
  }

  /** Entries after a seq, in seq order, plus (in the same scan) an order's entries wherever they are. */
  async *entriesAfter(charityId: string, afterSeq: number, orderId?: string): AsyncIterable<LedgerEntry> {
    const filter: Filter<LedgerDoc> = orderId
      ? { charityId, $or: [{ seq: { $gt: afterSeq } }, { orderId }] }
      : { charityId, seq: { $gt: afterSeq } };
    for await (const d of this.ledger.find(filter).sort({ seq: 1 }).batchSize(5000)) yield toEntry(d);
  }

  /** Cached block summaries in index order (without their leaves). */
  async blockSummaries(charityId: string): Promise<BlockSummary[]> {
    return this.blocks.find({ charityId }, { projection: { _id: 0, index: 1, lastSeq: 1, lastHash: 1, root: 1, sumFen: 1 } }).sort({ index: 1 }).toArray() as Promise<BlockSummary[]>;
  }

  async blocksWithLeaves(charityId: string, indexes: number[]): Promise<BlockDoc[]> {
    if (indexes.length === 0) return [];
    return this.blocks.find({ _id: { $in: indexes.map((i) => blockId(charityId, i)) } }).toArray();
  }

  /** Caches a completed block; a concurrent writer computed the same bytes, so a duplicate is fine. */
  async insertBlock(doc: BlockDoc): Promise<void> {
    await this.blocks.insertOne(doc).catch((e: { code?: number }) => { if (e.code !== 11000) throw e; });
  }
}

export const blockId = (charityId: string, index: number) => `${charityId}:${index}`;
