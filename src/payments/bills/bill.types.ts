import { DomainError } from '../../infra/errors';
import type { Provider } from '../payments.models';

/** One detail row of a provider's bill, normalised: amounts in fen, provider's ids as given. */
export interface BillRow {
  kind: 'payment' | 'refund';
  /** out_trade_no: the livegive order id */
  orderId: string;
  /** the provider's transaction id */
  providerRef: string;
  /** refunds: the merchant's refund id (out_refund_no / 退款请求号) */
  refundId?: string;
  /** payment: the order amount; refund: the refunded amount (positive) */
  amountFen: number;
  /** the provider's fee on this row (negative on refund rows when the fee is returned) */
  feeFen: number;
  /** the Asia/Shanghai day of the row */
  day: string;
}

export interface Bill {
  provider: Provider;
  /** the merchant the bill is for: WeChat mchid, Alipay account (PID) */
  account: string;
  /** WeChat only: the app id on the rows */
  appid?: string;
  rows: BillRow[];
}

/** A bill that cannot be taken as it is: a clear 422 BAD_BILL (CLI: an error), nothing is changed. */
export const badBill = (message: string, details?: unknown) => new DomainError('BAD_BILL', message, details);
