import { Schema, Connection } from 'mongoose';
import { agreementCollections, type AgreementDoc } from './agreement.types';

/** The `agreements` collection: one document per agreement, changed only by its host (proposal) and its charity (status). */
export function registerAgreementModels(conn: Connection): void {
  if (conn.models.Agreement) return;
  const s = new Schema<AgreementDoc>({
    _id: String, hostId: String, charityId: String, perUnitFen: Number, capFen: Number, capUnits: Number, onCap: String,
    productIds: { type: [String], default: undefined }, streamIds: { type: [String], default: undefined },
    validFrom: Date, validTo: Date, remitWithinDays: Number, status: String, migrated: Boolean,
    createdAt: Date, updatedAt: Date, acceptedAt: Date, declinedAt: Date, suspendedAt: Date,
  }, { versionKey: false, _id: false, collection: agreementCollections.agreements });
  s.index({ hostId: 1, status: 1 }); // query: agreements.byHost — a host's agreements (by status)
  s.index({ charityId: 1, status: 1 }); // query: agreements.byCharity — a charity's agreements (by status)
  s.index({ hostId: 1, charityId: 1 }); // query: agreements.byHostCharity — the overlap check of a proposal
  conn.model('Agreement', s);
}
