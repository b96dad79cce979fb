import { Schema, type Connection } from 'mongoose';

export type Provider = 'wechatpay' | 'alipay';
export const providers = ['wechatpay', 'alipay'] as const;

/** A host's merchant account at a provider. `_id` = "<provider>:<mchid or appId>"; the APIv3 key is stored sealed (AES-256-GCM). */
export interface MerchantDoc {
  _id: string;
  provider: Provider;
  hostId: string;
  /** the merchant as the provider names it in bills: WeChat mchid, Alipay seller_id (PID) */
  billAccount: string;
  wechatpay?: { mchid: string; appid: string; apiV3KeySealed: string; platformKeys: { serial: string; publicKeyPem: string }[] };
  alipay?: { appId: string; sellerId: string; alipayPublicKeyPem: string };
  updatedAt: Date;
}

/** A payment taken through a provider's adapter (or found by reconciliation): one per (provider, order). */
export interface ProviderPaymentDoc {
  _id: string;
  provider: Provider;
  merchantId: string;
  orderId: string;
  providerRef: string;
  amountFen: number;
  /** Asia/Shanghai calendar day of the payment, as the provider's bill files it */
  day: string;
  paidAt: string;
  source: 'notification' | 'reconciliation';
  recordedAt: Date;
}

/** A refund a provider notified (or an abnormal/closed one, recorded without reversal). `_id` = "<provider>:<refund id>". */
export interface ProviderRefundDoc {
  _id: string;
  provider: Provider;
  merchantId: string;
  orderId: string;
  refundId: string;
  amountFen: number;
  units: number;
  status: 'SUCCESS' | 'ABNORMAL' | 'CLOSED';
  day: string;
  recordedAt: Date;
}

export const PAYMENT_COLLECTIONS = { merchants: 'merchants', payments: 'provider_payments', refunds: 'provider_refunds' } as const;

export function registerPaymentModels(conn: Connection): void {
  if (conn.models.Merchant) return;
  const m = new Schema({ _id: String }, { strict: false, versionKey: false, collection: PAYMENT_COLLECTIONS.merchants });
  m.index({ provider: 1, billAccount: 1 }); // the merchant a bill file names (reconciliation)
  conn.model('Merchant', m);
  const p = new Schema({ _id: String }, { strict: false, versionKey: false, collection: PAYMENT_COLLECTIONS.payments });
  p.index({ merchantId: 1, day: 1 }); // one merchant's payments of one day (reconciliation)
  conn.model('ProviderPayment', p);
  const r = new Schema({ _id: String }, { strict: false, versionKey: false, collection: PAYMENT_COLLECTIONS.refunds });
  r.index({ merchantId: 1, day: 1 }); // one merchant's refunds of one day (reconciliation)
  conn.model('ProviderRefund', r);
}

/** The Asia/Shanghai calendar day (YYYY-MM-DD) of an instant: providers file bills by Beijing days. */
export function shanghaiDay(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
}
