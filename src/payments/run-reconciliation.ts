import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { merchantByBillAccount } from './merchants';
import { PAYMENT_COLLECTIONS, type Provider, type ProviderPaymentDoc, type ProviderRefundDoc } from './payments.models';
import { settlePayment } from './settle';
import { badBill, type Bill } from './bills/bill.types';
import { parseWechatBill } from './bills/wechatpay-bill';
import { parseAlipayBill } from './bills/alipay-bill';
import { compareBill, type Difference, type ReconciliationSummary } from './reconcile';

export interface ReconciliationReport { provider: Provider; date: string; merchantId: string; balanced: boolean; summary: ReconciliationSummary; differences: Difference[] }

export const parseBill = (provider: Provider, file: Buffer): Bill => (provider === 'wechatpay' ? parseWechatBill(file) : parseAlipayBill(file));

/**
 * Reconciles one provider bill (one merchant, one day) with livegive: parses and checks it, compares it with
 * the payments and refunds recorded for that merchant and day, and applies each lost payment notification
 * through the normal payment path, marked as found by reconciliation. A second run changes nothing.
 */
export async function runReconciliation(deps: Deps, input: { provider: Provider; file: Buffer; date?: string; merchant?: string }): Promise<ReconciliationReport> {
  if (!input.file.length) throw badBill('empty bill: the file is empty');
  const bill = parseBill(input.provider, input.file);
  if (input.merchant && input.merchant !== bill.account) throw badBill(`the bill is for merchant ${bill.account}, not ${input.merchant}`);
  const m = await merchantByBillAccount(deps, input.provider, bill.account);
  if (!m) throw badBill(`the bill is for merchant ${bill.account}, which is not registered with livegive`);
  if (bill.appid && m.wechatpay && bill.appid !== m.wechatpay.appid) throw badBill(`the bill is for app ${bill.appid}, not this merchant's app`);
  const days = new Set(bill.rows.map((r) => r.day));
  const date = input.date ?? [...days][0];
  if (days.size !== 1 || !days.has(date)) throw badBill(`the bill's rows are not all of ${date}`, { days: [...days].slice(0, 5) });
  const [payments, refunds] = await Promise.all([
    deps.db.collection<ProviderPaymentDoc>(PAYMENT_COLLECTIONS.payments).find({ merchantId: m._id, day: date }).toArray(), // index {merchantId, day}
    deps.db.collection<ProviderRefundDoc>(PAYMENT_COLLECTIONS.refunds).find({ merchantId: m._id, day: date, status: 'SUCCESS' }).toArray(), // index {merchantId, day}
  ]);
  const { differences, summary } = compareBill(bill, { payments, refunds });
  for (const d of differences.filter((x) => x.action === 'apply')) d.action = await applyLost(deps, m, d, date);
  for (const d of differences) deps.metrics.reconciliationDifferences.inc({ provider: input.provider, kind: d.kind, action: d.action });
  summary.unresolved = differences.filter((d) => d.action !== 'applied' && d.action !== 'already_applied').length;
  deps.logger.info({ provider: input.provider, merchantId: m._id, date, differences: differences.length, unresolved: summary.unresolved }, 'reconciliation done');
  return { provider: input.provider, date, merchantId: m._id, balanced: summary.unresolved === 0, summary, differences };
}

/** A payment the provider settled but livegive never heard of: applied as its notification would have been. */
async function applyLost(deps: Deps, m: NonNullable<Awaited<ReturnType<typeof merchantByBillAccount>>>, d: Difference, date: string): Promise<Difference['action']> {
  try {
    await settlePayment(deps, m, { orderId: d.orderId, providerRef: d.providerRef, amountFen: d.thereFen, paidAt: new Date(`${date}T12:00:00+08:00`), source: 'reconciliation' });
    return 'applied';
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    d.detail = err.code;
    // the buyer paid for an order livegive cannot take (expired, unknown, another amount): the money goes back
    return err.code === 'ORDER_NOT_PAYABLE' || err.code === 'AMOUNT_MISMATCH' ? 'refund_at_provider' : 'investigate';
  }
}
