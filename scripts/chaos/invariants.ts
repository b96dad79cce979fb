import { verifyChain } from '../../src/allocator/chain';
import type { LedgerEntry } from '../../src/allocator/ledger.types';
import type { StreamTotals } from '../../src/events';

/** An order as the projection stored it in MongoDB ('orders'). */
export interface StoredOrder { _id: string; status: string; charityId: string; streamId: string; productId: string; quantity: number; totalFen: number; pledgeTotalFen: number }

/** What the simulated clients were told: the service's promises the invariant holds it to. */
export interface ClientRecord {
  /** order id → units, for every order answered 201/200 */
  accepted: Map<string, { productId: string; quantity: number }>;
  /** order ids whose payment notification was answered 200 */
  paymentsAcked: Set<string>;
  /** order ids whose refund was answered 200 */
  refundsAcked: Set<string>;
}

export interface Facts {
  /** productId → units ever put on sale, and units remaining as the API reports them */
  products: Map<string, { stock: number; remaining: number }>;
  orders: StoredOrder[];
  ledger: LedgerEntry[];
  /** streamId → totals from GET /streams/:id/totals, and the last WebSocket frame's totals */
  totals: Map<string, { api: StreamTotals | null; ws: StreamTotals | null }>;
  client: ClientRecord;
  /** order statuses whose units count as sold (refunds do not restock unless the design says so) */
  holdingStatuses?: string[];
}

export interface Problem { check: string; subject: string; message: string }

/**
 * The chaos invariant, as a pure comparison: no oversell; per charity, ledger = Σ pledges of paid −
 * refunded + matches to the fen with an unbroken chain; stream totals (API and WebSocket) = ledger; every
 * accepted order stored in its final state; every acknowledged payment paid. Names every thing that is off.
 */
export function checkInvariants(f: Facts): Problem[] {
  return [...checkStock(f), ...checkOrders(f), ...checkChains(f.ledger), ...checkLedgerAgainstOrders(f), ...checkTotals(f)];
}

function checkStock(f: Facts): Problem[] {
  const out: Problem[] = [];
  const holding = new Set(f.holdingStatuses ?? ['reserved', 'paid', 'refunded']);
  const held = new Map<string, number>();
  for (const o of f.orders) if (holding.has(o.status)) held.set(o.productId, (held.get(o.productId) ?? 0) + o.quantity);
  // what buyers were told is independent of any store: paid units can never exceed stock
  const paidUnits = new Map<string, number>();
  for (const id of f.client.paymentsAcked) {
    const a = f.client.accepted.get(id);
    if (a) paidUnits.set(a.productId, (paidUnits.get(a.productId) ?? 0) + a.quantity);
  }
  for (const [productId, p] of f.products) {
    const sold = held.get(productId) ?? 0;
    const paid = paidUnits.get(productId) ?? 0;
    if (paid > p.stock) out.push({ check: 'oversell', subject: `product ${productId}`, message: `${paid} units paid (acknowledged to buyers) > stock ${p.stock}` });
    if (sold > p.stock) out.push({ check: 'oversell', subject: `product ${productId}`, message: `${sold} units held by orders > stock ${p.stock}` });
    if (p.remaining < 0) out.push({ check: 'oversell', subject: `product ${productId}`, message: `remaining is ${p.remaining}` });
    if (p.remaining + sold !== p.stock) {
      out.push({ check: 'stock', subject: `product ${productId}`, message: `remaining ${p.remaining} + held ${sold} ≠ stock ${p.stock}` });
    }
  }
  return out;
}

function checkOrders(f: Facts): Problem[] {
  const out: Problem[] = [];
  const stored = new Map(f.orders.map((o) => [o._id, o]));
  for (const [id, want] of f.client.accepted) {
    const o = stored.get(id);
    if (!o) { out.push({ check: 'order-stored', subject: `order ${id}`, message: 'accepted but not in MongoDB' }); continue; }
    if (o.quantity !== want.quantity || o.productId !== want.productId) {
      out.push({ check: 'order-stored', subject: `order ${id}`, message: `stored ${o.quantity}×${o.productId}, accepted ${want.quantity}×${want.productId}` });
    }
  }
  for (const id of f.client.paymentsAcked) {
    const s = stored.get(id)?.status;
    const ok = f.client.refundsAcked.has(id) ? s === 'refunded' : s === 'paid' || s === 'refunded';
    if (!ok) out.push({ check: 'payment', subject: `order ${id}`, message: `payment acknowledged with 200 but stored status is ${s ?? 'missing'}` });
  }
  for (const id of f.client.refundsAcked) {
    const s = stored.get(id)?.status;
    if (s !== 'refunded') out.push({ check: 'refund', subject: `order ${id}`, message: `refund acknowledged but stored status is ${s ?? 'missing'}` });
  }
  // straight from what buyers were told to the ledger, whatever MongoDB's order copy says
  const kinds = new Map<string, Set<string>>();
  for (const e of f.ledger) (kinds.get(e.orderId) ?? kinds.set(e.orderId, new Set()).get(e.orderId)!).add(e.kind);
  for (const id of f.client.paymentsAcked) {
    if (!kinds.get(id)?.has('allocation')) out.push({ check: 'payment-ledger', subject: `order ${id}`, message: 'payment acknowledged with 200 but no allocation entry' });
  }
  for (const id of f.client.refundsAcked) {
    if (!kinds.get(id)?.has('reversal')) out.push({ check: 'payment-ledger', subject: `order ${id}`, message: 'refund acknowledged but no reversal entry' });
  }
  for (const o of f.orders) {
    if (o.status === 'reserved') out.push({ check: 'order-final', subject: `order ${o._id}`, message: 'still reserved (neither paid nor expired)' });
  }
  return out;
}

function checkChains(ledger: LedgerEntry[]): Problem[] {
  const out: Problem[] = [];
  const seen = new Set<string>();
  for (const [charityId, entries] of groupBy(ledger, (e) => e.charityId)) {
    entries.sort((a, b) => a.seq - b.seq);
    for (const p of verifyChain(charityId, entries).problems) {
      out.push({ check: 'chain', subject: `charity ${charityId} entry ${p.seq}`, message: p.problem === 'gap' ? `gap: expected seq ${p.expectedSeq}` : `${p.problem} mismatch` });
    }
  }
  for (const e of ledger) {
    if (seen.has(e.key)) out.push({ check: 'chain', subject: `entry ${e.key}`, message: 'duplicate key' });
    seen.add(e.key);
  }
  return out;
}

function checkLedgerAgainstOrders(f: Facts): Problem[] {
  const out: Problem[] = [];
  const byOrder = groupBy(f.ledger, (e) => e.orderId);
  const expected = new Map<string, number>();
  const actual = new Map<string, number>();
  for (const o of f.orders) {
    const entries = byOrder.get(o._id) ?? [];
    const count = (kind: string) => entries.filter((e) => e.kind === kind).length;
    const [alloc, rev] = [count('allocation'), count('reversal')];
    const want = o.status === 'paid' ? [1, 0] : o.status === 'refunded' ? [1, 1] : [0, 0];
    if (alloc !== want[0] || rev !== want[1]) {
      out.push({ check: 'ledger', subject: `order ${o._id}`, message: `${o.status} order has ${alloc} allocation and ${rev} reversal entries (want ${want[0]} and ${want[1]})` });
    }
    for (const e of entries) {
      const want = e.kind === 'allocation' ? o.pledgeTotalFen : e.kind === 'reversal' ? -o.pledgeTotalFen : null;
      if (want !== null && e.amountFen !== want) out.push({ check: 'ledger', subject: `charity ${e.charityId} entry ${e.seq}`, message: `${e.kind} of ${e.amountFen} fen for order ${o._id}, pledge is ${o.pledgeTotalFen}` });
    }
    const matched = entries.filter((e) => e.kind === 'match').reduce((s, e) => s + e.amountFen, 0);
    const unmatched = entries.filter((e) => e.kind === 'match_reversal').reduce((s, e) => s + e.amountFen, 0);
    if (o.status === 'refunded' && matched + unmatched !== 0) out.push({ check: 'ledger', subject: `order ${o._id}`, message: `refunded but matches net ${matched + unmatched} fen` });
    if (o.status !== 'paid' && o.status !== 'refunded' && matched !== 0) out.push({ check: 'ledger', subject: `order ${o._id}`, message: `${o.status} order was matched ${matched} fen` });
    if (o.status === 'paid') expected.set(o.charityId, (expected.get(o.charityId) ?? 0) + o.pledgeTotalFen);
  }
  const known = new Set(f.orders.map((o) => o._id));
  for (const e of f.ledger) {
    if (!known.has(e.orderId)) out.push({ check: 'ledger', subject: `charity ${e.charityId} entry ${e.seq}`, message: `${e.kind} for order ${e.orderId}, which is not in MongoDB` });
    if (e.kind === 'allocation' || e.kind === 'reversal') actual.set(e.charityId, (actual.get(e.charityId) ?? 0) + e.amountFen);
  }
  for (const c of new Set([...expected.keys(), ...actual.keys()])) {
    const [want, got] = [expected.get(c) ?? 0, actual.get(c) ?? 0];
    if (want !== got) out.push({ check: 'ledger-sum', subject: `charity ${c}`, message: `ledger pledges ${got} fen ≠ Σ pledges of paid orders ${want} fen (off by ${got - want})` });
  }
  return out;
}

/** The numbers a stream's totals must show, recomputed from its ledger entries. */
export function totalsFromLedger(entries: LedgerEntry[]) {
  const t = { salesFen: 0, units: 0, orders: 0, donationFen: 0, matchedFen: 0, byCharity: new Map<string, { donationFen: number; matchedFen: number }>() };
  for (const e of entries) {
    const c = t.byCharity.get(e.charityId) ?? { donationFen: 0, matchedFen: 0 };
    if (e.kind === 'allocation' || e.kind === 'reversal') {
      t.salesFen += e.salesFen; t.units += e.quantity; t.donationFen += e.amountFen; c.donationFen += e.amountFen;
      t.orders += e.kind === 'allocation' ? 1 : -1;
    } else {
      t.matchedFen += e.amountFen; c.matchedFen += e.amountFen;
    }
    t.byCharity.set(e.charityId, c);
  }
  return t;
}

function checkTotals(f: Facts): Problem[] {
  const out: Problem[] = [];
  const byStream = groupBy(f.ledger, (e) => e.streamId);
  for (const [streamId, seen] of f.totals) {
    const want = totalsFromLedger(byStream.get(streamId) ?? []);
    for (const [source, t] of [['api', seen.api], ['ws', seen.ws]] as const) {
      if (!t) { out.push({ check: 'totals', subject: `stream ${streamId} (${source})`, message: 'no totals' }); continue; }
      for (const k of ['salesFen', 'units', 'orders', 'donationFen', 'matchedFen'] as const) {
        if (t[k] !== want[k]) out.push({ check: 'totals', subject: `stream ${streamId} (${source}) ${k}`, message: `shows ${t[k]}, ledger says ${want[k]}` });
      }
      for (const [charityId, c] of want.byCharity) {
        const shown = t.byCharity.find((b) => b.charityId === charityId);
        if (!shown || shown.donationFen !== c.donationFen || shown.matchedFen !== c.matchedFen) {
          out.push({ check: 'totals', subject: `stream ${streamId} (${source}) charity ${charityId}`, message: `shows ${shown?.donationFen ?? 0}+${shown?.matchedFen ?? 0} matched, ledger says ${c.donationFen}+${c.matchedFen}` });
        }
      }
    }
  }
  return out;
}

function groupBy<T>(items: T[], keyOf: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = keyOf(i);
    const list = m.get(k);
    if (list) list.push(i); else m.set(k, [i]);
  }
  return m;
}
