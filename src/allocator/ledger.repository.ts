import { Schema, type Connection } from 'mongoose';
import type { Collection } from 'mongodb';
import type { Deps } from '../deps';
import { blockKeyOf, blockOf, dayKeyOf, dayOf, extensionFields, LEDGER_BLOCK_SIZE, type EntryKind, type LedgerEntry } from './ledger.types';
import type { EntryDisplay } from './totals';
import { ChainConflict } from './totals.store';
import { onlyDuplicates } from '../infra/mongo';

/** A stored entry: the hashed fields, plus display names and the Kafka position (neither is hashed). */
export interface LedgerDoc extends Omit<LedgerEntry, 'key' | 'at'>, EntryDisplay {
  _id: string;
  at: Date;
  /** `<charity>:<block>`: a block's entries by equality (pages, proofs, the chain read block by block) */
  blockKey: string;
  /** `<charity>:<UTC day>`: a day's entries by equality (statements) */
  dayKey: string;
  partition: number;
  offset: number;
}

export const LEDGER_COLLECTION = 'ledger';

/** Entries per insert command of an append (a Kafka batch of 1 MB is ~1,700 entries: four inserts at once). */
export const APPEND_CHUNK = 500;

export function registerLedgerModel(conn: Connection): void {
  if (conn.models.LedgerEntry) return;
  const s = new Schema<LedgerDoc>({
    _id: String, charityId: String, seq: Number, kind: String, amountFen: Number, salesFen: Number, quantity: Number,
    orderId: String, streamId: String, productId: String, hostId: String, eventId: String, matchId: String, at: Date,
    prevHash: String, hash: String, charityName: String, productName: String, buyer: String, partition: Number, offset: Number,
    blockKey: String, dayKey: String, agreementId: String, remit: Schema.Types.Mixed,
  }, { versionKey: false, _id: false, collection: LEDGER_COLLECTION });
  // one entry per (charity, seq): a second writer's fork refused (MongoDB; FerretDB has no reads on it)
  s.index({ charityId: 1, seq: 1 }, { unique: true });
  s.index({ orderId: 1 }); // query: ledger.byOrder (receipts)
  s.index({ blockKey: 1 }); // query: ledger.byBlock (pages, proofs, public head, chain, sealing)
  s.index({ dayKey: 1 }); // query: ledger.byDay (statements, opening balance's partial day)
  conn.model('LedgerEntry', s);
}

/** The stored form of an entry, with its block and day keys. */
export const ledgerDoc = ({ key, at, ...e }: LedgerEntry): Omit<LedgerDoc, keyof EntryDisplay | 'partition' | 'offset'> => ({
  _id: key, ...e, at: new Date(at), blockKey: blockKeyOf(e.charityId, blockOf(e.seq)), dayKey: dayKeyOf(e.charityId, dayOf(at)),
});

/**
 * The stored form of an entry with its display fields and Kafka position: ledgerDoc's fields and those, written out in
 * one object (the allocator makes one a payment; the rest-and-spread copies were a tenth of its time in a drain).
 */
export function storedDoc(e: LedgerEntry, display: EntryDisplay, partition: number, offset: number): LedgerDoc {
  const doc: LedgerDoc = {
    _id: e.key, charityId: e.charityId, orderId: e.orderId, streamId: e.streamId, productId: e.productId, hostId: e.hostId, eventId: e.eventId,
    kind: e.kind, amountFen: e.amountFen, salesFen: e.salesFen, quantity: e.quantity, matchId: e.matchId, seq: e.seq, prevHash: e.prevHash, hash: e.hash,
    at: new Date(e.at), blockKey: blockKeyOf(e.charityId, blockOf(e.seq)), dayKey: dayKeyOf(e.charityId, dayOf(e.at)),
    charityName: display.charityName, productName: display.productName, buyer: display.buyer, partition, offset,
  };
  if (e.agreementId !== undefined) doc.agreementId = e.agreementId;
  if (e.remit !== undefined) doc.remit = e.remit;
  if (display.partialRefund !== undefined) doc.partialRefund = display.partialRefund;
  return doc;
}

export const toEntry = (d: Omit<LedgerDoc, keyof EntryDisplay | 'partition' | 'offset' | 'blockKey' | 'dayKey'>): LedgerEntry => ({
  key: d._id, charityId: d.charityId, seq: d.seq, kind: d.kind as EntryKind, amountFen: d.amountFen, salesFen: d.salesFen,
  quantity: d.quantity, orderId: d.orderId, streamId: d.streamId, productId: d.productId, hostId: d.hostId, eventId: d.eventId,
  matchId: d.matchId ?? null, at: d.at.toISOString(), prevHash: d.prevHash, hash: d.hash, ...extensionFields(d),
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
   * Inserts entries in unordered bulk inserts of APPEND_CHUNK, all at once, and answers when every one is durable.
   * Duplicates are fine only if they are the very same entries (a retry after a crash recomputes identical ones);
   * anything else is a fork, refused. Any other failure fails the whole append (its retry inserts what is missing).
   */
  async append(entries: { entry: LedgerEntry; display: EntryDisplay; partition: number; offset: number }[]): Promise<number> {
    if (!entries.length) return 0;
    const docs = entries.map(({ entry, display, partition, offset }) => storedDoc(entry, display, partition, offset));
    // FerretDB runs one insert command on one connection, row batch after row batch: chunks in parallel keep a
    // partition's batch from being one long serial insert while the store has cores to spare (a drain's tail)
    const chunks = Array.from({ length: Math.ceil(docs.length / APPEND_CHUNK) }, (_, i) => docs.slice(i * APPEND_CHUNK, (i + 1) * APPEND_CHUNK));
    const settled = await Promise.allSettled(chunks.map((c) => this.insertChunk(c)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.reduce((n, r) => n + (r as PromiseFulfilledResult<number>).value, 0);
  }

  private async insertChunk(docs: LedgerDoc[]): Promise<number> {
    try {
      await this.coll.insertMany(docs, { ordered: false });
      return docs.length;
    } catch (err) {
      const dups = onlyDuplicates(err, docs.length);
      if (!dups) throw err;
      const dupIds = dups.map((i) => docs[i]._id);
      // one equality read per id: `$in` is never pushed down on FerretDB (query: ledger.byId)
      const found = new Map((await Promise.all(dupIds.map((id) => this.coll.findOne({ _id: id }, { projection: { hash: 1, seq: 1 } })))).filter((d) => d !== null).map((d) => [d._id, d]));
      const mine = new Map(docs.map((d) => [d._id, d]));
      const fork = dupIds.find((id) => found.get(id)?.hash !== mine.get(id)!.hash);
      if (fork) throw new ChainConflict(`ledger entry ${fork} clashes with a stored entry`);
      return docs.length - dupIds.length;
    }
  }

  /** One block's entries in seq order: an equality read whatever the ledger's size. */
  async block(charityId: string, block: number): Promise<LedgerEntry[]> {
    const docs = await this.coll.find({ blockKey: blockKeyOf(charityId, block) }).toArray(); // query: ledger.byBlock
    return docs.map(toEntry).sort((a, b) => a.seq - b.seq);
  }

  /** One page of a charity's chain, after `after`, in seq order: the few blocks it spans, read at once. */
  async page(charityId: string, after: number, limit: number): Promise<LedgerEntry[]> {
    const first = blockOf(after + 1);
    const blocks = await Promise.all(Array.from({ length: blockOf(after + limit) - first + 1 }, (_, i) => this.block(charityId, first + i)));
    return blocks.flat().filter((e) => e.seq > after).slice(0, limit);
  }

  /** A charity's chain after a seq in seq order, reading a few blocks ahead, until a block is not full (memory: a few blocks). */
  async *chain(charityId: string, afterSeq = 0): AsyncIterable<LedgerEntry> {
    yield* readChain((b) => this.block(charityId, b), afterSeq);
  }

  /**
   * Gives entries stored before block and day keys existed their keys (hashed fields untouched), in one pass;
   * answers the charities found. Only `livegive rebuild-derived` calls it.
   */
  async backfillKeys(): Promise<{ charities: string[]; updated: number }> {
    const charities = new Set<string>();
    let updated = 0;
    type KeyUpdate = { _id: string };
    let ops: { updateMany: { filter: KeyUpdate; update: { $set: { blockKey: string; dayKey: string } } } }[] = [];
    const flush = async () => { if (ops.length) await this.coll.bulkWrite(ops, { ordered: false }); updated += ops.length; ops = []; };
    for await (const d of this.all()) {
      charities.add(d.charityId);
      if (d.blockKey && d.dayKey) continue;
      const k = ledgerDoc(toEntry(d));
      // multi: by _id, never a non-multi update command this size on FerretDB (FERRETDB.md); query: ledger.byId
      ops.push({ updateMany: { filter: { _id: d._id }, update: { $set: { blockKey: k.blockKey, dayKey: k.dayKey } } } });
      if (ops.length === 32) await flush();
    }
    await flush();
    return { charities: [...charities].sort(), updated };
  }

  /** Every stored entry, for rebuilds and checks (one pass, in store order). */
  all(): AsyncIterable<LedgerDoc> {
    return this.coll.find({}).batchSize(10_000); // query: ledger.all (a rebuild's one pass)
  }
}

const READ_AHEAD = 8;

/** The chain block by block from the one holding afterSeq + 1, READ_AHEAD blocks in flight, stopping after the first short block. */
export async function* readChain(block: (b: number) => Promise<LedgerEntry[]>, afterSeq: number): AsyncIterable<LedgerEntry> {
  for await (const entries of readBlocks(block, afterSeq)) yield* entries;
}

/** As `readChain`, a block's entries (after afterSeq) at a time: for streams that write a block at once. */
export async function* readBlocks(block: (b: number) => Promise<LedgerEntry[]>, afterSeq: number): AsyncIterable<LedgerEntry[]> {
  const inFlight: Promise<LedgerEntry[]>[] = [];
  let next = blockOf(afterSeq + 1);
  for (;;) {
    while (inFlight.length < READ_AHEAD) {
      const p = block(next++);
      p.catch(() => undefined); // left in flight when the reader stops early: never an unhandled rejection
      inFlight.push(p);
    }
    const entries = await inFlight.shift()!;
    const after = entries.filter((e) => e.seq > afterSeq);
    if (after.length) yield after;
    if (entries.length < LEDGER_BLOCK_SIZE) return;
  }
}
