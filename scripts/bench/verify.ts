import type { Db } from 'mongodb';
import { verifyChain } from '../../src/allocator/chain';
import type { LedgerEntry } from '../../src/allocator/ledger.types';
import type { StreamTotals } from '../../src/events';
import { BenchClient } from './http';
import type { OrderRec } from './scenario';
import type { Seeded } from './seed';

export interface Check { name: string; ok: boolean; detail: string }

/** What the ledger must hold for one charity, from the orders the client saw paid and refunded. */
export interface Expected { allocatedFen: number; reversedFen: number; units: number; orders: number; salesFen: number }

/** Sums the client's record of final order states per charity (pure). */
export function expectedByCharity(orders: Iterable<OrderRec>, products: Seeded['products'], charities: number): Expected[] {
  const out = Array.from({ length: charities }, () => ({ allocatedFen: 0, reversedFen: 0, units: 0, orders: 0, salesFen: 0 }));
  for (const o of orders) {
    if (o.state === 'reserved') continue;
    const e = out[products[o.product].charityIdx];
    e.allocatedFen += o.pledgeFen;
    if (o.state === 'refunded') e.reversedFen += o.pledgeFen;
    else { e.units += o.qty; e.orders += 1; e.salesFen += o.totalFen; }
  }
  return out;
}

/** Every order's latest status in MongoDB (the projection keeps one insert-once document per order version). */
export async function projectedStatuses(db: Db): Promise<Map<string, string>> {
  const m = new Map<string, { v: number; status: string }>();
  for await (const d of db.collection<{ _id: string; orderId?: string; orderVersion?: number; status: string }>('orders').find({}, { projection: { _id: 1, orderId: 1, orderVersion: 1, status: 1 } })) {
    const id = d.orderId ?? d._id;
    const cur = m.get(id);
    if (!cur || (d.orderVersion ?? 0) > cur.v) m.set(id, { v: d.orderVersion ?? 0, status: d.status });
  }
  return new Map([...m].map(([id, x]) => [id, x.status]));
}

/**
 * The correctness checks after the run: no oversell, ledger = Σ pledges of paid − refunded + matches
 * to the fen (and each chain verifies), stream totals = ledger, every accepted order projected to
 * MongoDB in its final state. What got no answer during the load was settled through the API before.
 */
export async function verifyRun(client: BenchClient, db: Db, seed: Seeded, orders: Map<string, OrderRec>): Promise<Check[]> {
  const checks: Check[] = [];
  const projected = await projectedStatuses(db);
  const unsure = [...orders.values()].filter((o) => o.unsure).length;
  const missing = [...orders.values()].filter((o) => !projected.has(o.id)).length;
  const wrong = [...orders.values()].filter((o) => projected.has(o.id) && projected.get(o.id) !== o.state);
  checks.push({ name: 'every accepted order is in MongoDB in its final state', ok: missing === 0 && wrong.length === 0,
    detail: `${orders.size} accepted, ${missing} missing, ${wrong.length} in another state${wrong.length ? ` (e.g. ${wrong[0].id}: expected ${wrong[0].state}, found ${projected.get(wrong[0].id)})` : ''}; ${unsure} still of unknown state after reading them back` });

  const stream = (await getJson(client, `/api/v1/streams/${seed.streamId}`)) as { products?: { id: string; remaining: number }[] };
  const remaining = new Map((stream?.products ?? []).map((p) => [p.id, p.remaining]));
  const sold = new Map<number, number>();
  for (const o of orders.values()) sold.set(o.product, (sold.get(o.product) ?? 0) + o.qty);
  const stockProblems: string[] = [];
  seed.products.forEach((p, i) => {
    const s = sold.get(i) ?? 0;
    const r = remaining.get(p.id);
    if (s > p.stock) stockProblems.push(`${p.id}: ${s} sold of ${p.stock}`);
    if (r === undefined || r < 0 || r !== p.stock - s) stockProblems.push(`${p.id}: remaining ${r}, expected ${p.stock - s}`);
  });
  const sellout = seed.products.findIndex((p) => p.role === 'sellout');
  checks.push({ name: 'no product oversold (remaining = stock − accepted units, never below 0)', ok: stockProblems.length === 0,
    detail: stockProblems.length ? stockProblems.slice(0, 5).join('; ') : `20 products; the limited one sold ${sold.get(sellout) ?? 0} of ${seed.products[sellout].stock}` });

  const expected = expectedByCharity(orders.values(), seed.products, seed.charities.length);
  const ledgerTotals: { donation: number; matched: number }[] = [];
  for (let c = 0; c < seed.charities.length; c++) {
    const charityId = seed.charities[c].id;
    const sum = { allocation: 0, reversal: 0, match: 0, match_reversal: 0, remittance: 0, acknowledgement: 0 };
    const entries: LedgerEntry[] = [];
    for await (const d of db.collection<Omit<LedgerEntry, 'key' | 'at'> & { _id: string; at: Date }>('ledger').find({ charityId }).sort({ seq: 1 })) {
      const { _id, at, ...rest } = d;
      entries.push({ ...rest, key: _id, at: at.toISOString() });
      sum[d.kind] += d.amountFen;
    }
    const chain = verifyChain(charityId, entries);
    const e = expected[c];
    const matched = sum.match + sum.match_reversal;
    // 1:1 up to the cap: while the donations paid never reached the cap the match equals the net donation exactly; once
    // they did, orders paid after the budget ran out were matched with nothing and a refund returns only what its order
    // took, so the match may then differ from a net donation that refunds brought back under the cap (never above the cap)
    const net = e.allocatedFen - e.reversedFen;
    const capOk = c === seed.match.charityIdx
      ? matched >= 0 && matched <= seed.match.capFen && (e.allocatedFen >= seed.match.capFen || matched === net)
      : matched === 0;
    const ok = sum.allocation === e.allocatedFen && -sum.reversal === e.reversedFen && capOk && chain.problems.length === 0;
    checks.push({ name: `ledger of charity ${c + 1} = Σ pledges paid − refunded + matches, to the fen; chain verifies`, ok,
      detail: `ledger allocations ${sum.allocation} (expected ${e.allocatedFen}), reversals ${sum.reversal} (expected ${-e.reversedFen}), matches net ${matched} (cap ${c === seed.match.charityIdx ? seed.match.capFen : 0}), ${entries.length} entries, ${chain.problems.length} chain problems` });
    ledgerTotals.push({ donation: sum.allocation + sum.reversal, matched });
  }

  const t = ((await getJson(client, `/api/v1/streams/${seed.streamId}/totals`)) ?? {}) as StreamTotals;
  const donation = ledgerTotals.reduce((a, b) => a + b.donation, 0);
  const matched = ledgerTotals.reduce((a, b) => a + b.matched, 0);
  const units = expected.reduce((a, b) => a + b.units, 0);
  const sales = expected.reduce((a, b) => a + b.salesFen, 0);
  const nOrders = expected.reduce((a, b) => a + b.orders, 0);
  const byCharityOk = seed.charities.every((c, i) => {
    const row = t.byCharity?.find((r) => r.charityId === c.id);
    return (row?.donationFen ?? 0) === ledgerTotals[i].donation && (row?.matchedFen ?? 0) === ledgerTotals[i].matched;
  });
  checks.push({ name: 'stream totals = ledger (donation, matched, per charity; units, orders and sales as paid − refunded)',
    ok: t.donationFen === donation && t.matchedFen === matched && byCharityOk && t.units === units && t.orders === nOrders && t.salesFen === sales,
    detail: `totals donation ${t.donationFen} vs ledger ${donation}, matched ${t.matchedFen} vs ${matched}, units ${t.units} vs ${units}, orders ${t.orders} vs ${nOrders}, sales ${t.salesFen} vs ${sales}, per charity ${byCharityOk ? 'equal' : 'DIFFERENT'}` });
  return checks;
}

/** A GET that is retried a few times (the service may still be busy right after the load); null if it never answers 200. */
async function getJson(client: BenchClient, path: string): Promise<unknown> {
  for (let i = 0; i < 5; i++) {
    const r = await client.request('GET', path);
    if (r.status === 200) return r.body;
    await new Promise((res) => setTimeout(res, 1000));
  }
  return null;
}
