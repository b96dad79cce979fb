import type { Bill } from './bills/bill.types';

/** What livegive recorded for one merchant and day (provider_payments, provider_refunds). */
export interface HereRecords {
  payments: { orderId: string; providerRef: string; amountFen: number; source: 'notification' | 'reconciliation' }[];
  refunds: { orderId: string; refundId: string; amountFen: number }[];
}

export type DifferenceKind = 'paid_there_not_here' | 'paid_here_not_there' | 'amount_mismatch' | 'refund_mismatch' | 'duplicate_charge';
export type Action = 'apply' | 'applied' | 'already_applied' | 'refund_at_provider' | 'investigate';

export interface Difference { kind: DifferenceKind; orderId: string; providerRef: string; hereFen: number; thereFen: number; action: Action; detail?: string }

export interface ReconciliationSummary {
  paymentsThere: number; paymentsHere: number; paidThereFen: number; paidHereFen: number;
  refundedThereFen: number; refundedHereFen: number; feeFen: number; settledThereFen: number; differences: number; unresolved: number;
}

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

/**
 * Compares a provider's bill of one day with what livegive recorded, to the fen. Pure. A payment there
 * but not here is to be applied ("apply"); one applied by an earlier run is reported again as
 * "already_applied", so a second run reports the same day the same way and changes nothing. Refunds are
 * compared per order (Σ refunded that day), since refund ids differ between providers and host refunds.
 */
export function compareBill(bill: Bill, here: HereRecords): { differences: Difference[]; summary: ReconciliationSummary } {
  const out: Difference[] = [];
  const herePay = new Map(here.payments.map((p) => [p.orderId, p]));
  const therePay = new Map<string, Bill['rows'][number]>();
  for (const r of bill.rows) {
    if (r.kind !== 'payment') continue;
    // a second transaction for one order: the buyer paid twice, one of them goes back
    if (therePay.has(r.orderId)) out.push({ kind: 'duplicate_charge', orderId: r.orderId, providerRef: r.providerRef, hereFen: 0, thereFen: r.amountFen, action: 'refund_at_provider' });
    else therePay.set(r.orderId, r);
  }
  for (const [orderId, t] of therePay) {
    const h = herePay.get(orderId);
    if (h && h.providerRef !== t.providerRef) out.push({ kind: 'duplicate_charge', orderId, providerRef: t.providerRef, hereFen: h.amountFen, thereFen: t.amountFen, action: 'investigate', detail: `here paid by ${h.providerRef}` });
    else if (!h) out.push({ kind: 'paid_there_not_here', orderId, providerRef: t.providerRef, hereFen: 0, thereFen: t.amountFen, action: 'apply' });
    // reported as the first run reported it (nothing had come here by notification), with what was done since
    else if (h.source === 'reconciliation') out.push({ kind: 'paid_there_not_here', orderId, providerRef: t.providerRef, hereFen: 0, thereFen: t.amountFen, action: 'already_applied' });
    else if (h.amountFen !== t.amountFen) out.push({ kind: 'amount_mismatch', orderId, providerRef: t.providerRef, hereFen: h.amountFen, thereFen: t.amountFen, action: 'investigate' });
  }
  for (const [orderId, h] of herePay) {
    if (!therePay.has(orderId)) out.push({ kind: 'paid_here_not_there', orderId, providerRef: h.providerRef, hereFen: h.amountFen, thereFen: 0, action: 'investigate' });
  }
  const refThere = new Map<string, number>();
  const refHere = new Map<string, number>();
  const refRef = new Map<string, string>();
  for (const r of bill.rows) if (r.kind === 'refund') { add(refThere, r.orderId, r.amountFen); refRef.set(r.orderId, r.refundId ?? r.providerRef); }
  for (const r of here.refunds) { add(refHere, r.orderId, r.amountFen); if (!refRef.has(r.orderId)) refRef.set(r.orderId, r.refundId); }
  for (const orderId of new Set([...refThere.keys(), ...refHere.keys()])) {
    const [h, t] = [refHere.get(orderId) ?? 0, refThere.get(orderId) ?? 0];
    if (h !== t) out.push({ kind: 'refund_mismatch', orderId, providerRef: refRef.get(orderId) ?? '', hereFen: h, thereFen: t, action: 'investigate' });
  }
  out.sort((a, b) => a.kind.localeCompare(b.kind) || a.orderId.localeCompare(b.orderId));
  const sum = (xs: { amountFen: number }[]) => xs.reduce((n, x) => n + x.amountFen, 0);
  const paid = bill.rows.filter((r) => r.kind === 'payment');
  const refunded = bill.rows.filter((r) => r.kind === 'refund');
  const feeFen = bill.rows.reduce((n, r) => n + r.feeFen, 0);
  return {
    differences: out,
    summary: {
      paymentsThere: paid.length, paymentsHere: here.payments.length, paidThereFen: sum(paid), paidHereFen: sum(here.payments),
      refundedThereFen: sum(refunded), refundedHereFen: sum(here.refunds), feeFen, settledThereFen: sum(paid) - sum(refunded) - feeFen,
      differences: out.length, unresolved: out.filter((d) => d.action !== 'applied' && d.action !== 'already_applied').length,
    },
  };
}

/** The report as CSV: one line per difference, then a summary line that says whether the day balances. */
export function reportCsv(r: { provider: string; date: string; balanced: boolean; summary: ReconciliationSummary; differences: Difference[] }): string {
  const cell = (v: string | number) => (/[",\r\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
  const lines = [['kind', 'order_id', 'provider_ref', 'here_fen', 'there_fen', 'action'].join(',')];
  for (const d of r.differences) lines.push([d.kind, d.orderId, d.providerRef, d.hereFen, d.thereFen, d.action].map(cell).join(','));
  const s = r.summary;
  lines.push(`# ${r.provider} ${r.date}: ${r.balanced ? 'balanced' : 'NOT balanced'}; paid there ${s.paidThereFen} fen in ${s.paymentsThere}, here ${s.paidHereFen} fen in ${s.paymentsHere}; refunded there ${s.refundedThereFen}, here ${s.refundedHereFen}; fees ${s.feeFen}; settled ${s.settledThereFen}; ${s.unresolved} unresolved of ${s.differences} differences`);
  return `${lines.join('\r\n')}\r\n`;
}
