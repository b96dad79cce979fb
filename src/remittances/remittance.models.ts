import { Schema, type Connection } from 'mongoose';
import { agreementCollections, type AgreementDoc } from '../agreements/agreement.types';
import type { Deps } from '../deps';

export type RemittanceStatus = 'sent' | 'acknowledged' | 'disputed';

/** One document per remittance (`rm_<random>`): written by the API when the host records it, its answer by the allocator from the ledger. */
export interface RemittanceDoc {
  _id: string;
  agreementId: string;
  charityId: string;
  hostId: string;
  amountFen: number;
  paidAt: Date;
  reference: string;
  coversFrom: number;
  coversTo: number;
  /** the amount split by the streams of the covered entries */
  byStream?: Record<string, number>;
  status: RemittanceStatus;
  createdAt: Date;
  /** the remittance's ledger entry, once the allocator has written it */
  entrySeq?: number;
  /** the charity's answer and its ledger entry */
  answeredAt?: Date;
  answerSeq?: number;
  reason?: string;
}

export const REMITTANCES = agreementCollections.remittances;

export function registerRemittanceModel(conn: Connection): void {
  if (conn.models.Remittance) return;
  const s = new Schema<RemittanceDoc>({
    _id: String, agreementId: String, charityId: String, hostId: String, amountFen: Number, paidAt: Date, reference: String,
    coversFrom: Number, coversTo: Number, byStream: Schema.Types.Mixed, status: String, createdAt: Date, entrySeq: Number, answeredAt: Date, answerSeq: Number, reason: String,
  }, { versionKey: false, _id: false, collection: REMITTANCES });
  s.index({ charityId: 1 }); // query: remittances.byCharity (the public agreements view)
  s.index({ agreementId: 1 }); // query: remittances.byAgreement (a receipt's stage)
  conn.model('Remittance', s);
}

/** Reads and writes of the remittances collection, and the agreements it is checked against (read only here). */
export class RemittancesRepository {
  constructor(private readonly deps: Pick<Deps, 'db'>) {}
  private get coll() { return this.deps.db.collection<RemittanceDoc>(REMITTANCES); }

  async insert(doc: RemittanceDoc): Promise<void> { await this.coll.insertOne(doc); }
  async remove(id: string): Promise<void> { await this.coll.deleteOne({ _id: id }); } // query: remittances.byId
  byId(id: string): Promise<RemittanceDoc | null> { return this.coll.findOne({ _id: id }); } // query: remittances.byId
  byCharity(charityId: string): Promise<RemittanceDoc[]> { return this.coll.find({ charityId }).toArray(); } // query: remittances.byCharity
  byAgreement(agreementId: string): Promise<RemittanceDoc[]> { return this.coll.find({ agreementId }).toArray(); } // query: remittances.byAgreement
  /** Records what the allocator wrote; by _id, one writer (the owner of the charity's partition), idempotent. */
  async set(id: string, fields: Partial<RemittanceDoc>): Promise<void> {
    await this.coll.updateMany({ _id: id }, { $set: fields }); // query: remittances.byId (multi: FERRETDB.md)
  }

  agreement(id: string): Promise<AgreementDoc | null> {
    return this.deps.db.collection<AgreementDoc>(agreementCollections.agreements).findOne({ _id: id }); // query: agreements.byId
  }
  agreementsOfCharity(charityId: string): Promise<AgreementDoc[]> {
    return this.deps.db.collection<AgreementDoc>(agreementCollections.agreements).find({ charityId }).toArray(); // query: agreements.byCharity
  }
}
