import { Schema, Connection } from 'mongoose';
import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';

/** What can be wrong with a payment that was otherwise valid (signed, right amount): money taken that no order needs. */
export type AnomalyKind = 'duplicate_charge';

export interface PaymentAnomalyInput { kind: AnomalyKind; orderId: string; provider: string; paymentId: string; amountFen: number; originalPaymentId?: string }
export interface PaymentAnomaly extends PaymentAnomalyInput { at: string }
interface AnomalyDoc extends Omit<PaymentAnomaly, 'at'> { _id: string; at: Date }

export const PAYMENT_ANOMALIES = 'payment_anomalies';

export function registerAnomalyModels(conn: Connection): void {
  if (conn.models.PaymentAnomaly) return;
  const s = new Schema({ _id: String }, { strict: false, versionKey: false, collection: PAYMENT_ANOMALIES });
  s.index({ at: -1 }); // the operator's list, newest first (GET /payments/anomalies)
  conn.model('PaymentAnomaly', s);
}

/**
 * Records a payment that must be looked at (a second charge for a paid order), once per (order, provider,
 * payment id): a provider's retries of the same notification are duplicates of the key and change nothing.
 * Provider adapters call this too. Throws when it could not be stored, so the provider retries.
 */
export async function recordPaymentAnomaly(deps: Deps, a: PaymentAnomalyInput): Promise<{ recorded: boolean }> {
  const doc: AnomalyDoc = { _id: `${a.kind}|${a.orderId}|${a.provider}|${a.paymentId}`, ...a, at: new Date() };
  try {
    await deps.db.collection<AnomalyDoc>(PAYMENT_ANOMALIES).insertOne(doc);
  } catch (e) {
    if ((e as { code?: number }).code === 11000) return { recorded: false };
    deps.logger.error({ err: (e as Error).message, orderId: a.orderId, kind: a.kind }, 'payment anomaly not stored');
    throw new DomainError('UNAVAILABLE', 'the payment could not be checked; please retry', undefined, 1);
  }
  deps.metrics.paymentAnomalies.inc({ kind: a.kind });
  deps.logger.warn({ orderId: a.orderId, kind: a.kind, provider: a.provider, paymentId: a.paymentId, amountFen: a.amountFen }, 'payment anomaly recorded');
  return { recorded: true };
}

/** The latest anomalies, newest first. */
export async function listPaymentAnomalies(deps: Deps, limit: number): Promise<PaymentAnomaly[]> {
  // served by { at: -1 }
  const docs = await deps.db.collection<AnomalyDoc>(PAYMENT_ANOMALIES).find({}).sort({ at: -1, _id: 1 }).limit(limit).toArray();
  return docs.map(({ _id, at, ...a }) => ({ ...a, at: at.toISOString() }));
}
