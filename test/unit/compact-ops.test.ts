import { allocate, type PositionedEvent } from '../../src/allocator/allocate';
import { compactOps } from '../../src/allocator/compact-ops';
import { applyOps, emptyState, entryOps, RECENT_MAX, type TotalsOp, type TotalsState } from '../../src/allocator/totals';
import { orderEvent } from '../helpers/order-events';

const display = (i: number, partialRefund = false) => ({ charityName: `C${i % 2}`, productName: `P${i % 3}`, buyer: `买家${i}`, ...(partialRefund ? { partialRefund } : {}) });
const plain = (st: TotalsState) => ({
  hashes: [...st.hashes].map(([k, h]) => [k, Object.fromEntries([...h].sort())]).sort(),
  lists: [...st.lists].sort(), pending: [...st.pending].map(([k, p]) => [k, p.score, applyPending(p.ops)]).sort(),
});
// pending confirmations compare by what they would do, not by how their ops are listed
const applyPending = (ops: TotalsOp[]) => { const s = emptyState(); applyOps(s, ops, Infinity); return [...s.hashes].map(([k, h]) => [k, [...h].sort()]).sort(); };

/** A batch of one charity: paid orders, some refunded (whole) in the same batch, over streams and products. */
function batch(n: number, seed: number): Array<{ ops: TotalsOp[]; at: number }> {
  const events: PositionedEvent[] = [];
  for (let i = 0; i < n; i++) {
    const base = { orderId: `o${seed}-${i}`, charityId: 'c1', streamId: `s${i % 3}`, productId: `p${(i * 7 + seed) % 4}`, quantity: 1 + (i % 3), pledgePerUnitFen: 150 + seed };
    events.push({ event: orderEvent('order.paid', base), partition: 0, offset: events.length });
    if ((i + seed) % 5 === 0) events.push({ event: orderEvent('order.refunded', base), partition: 0, offset: events.length });
  }
  const [plan] = allocate(events, new Map(), new Map());
  return plan.entries.map((e, i) => ({ ops: entryOps(e, display(i, i % 11 === 3 && e.kind === 'reversal'), 60_000), at: Date.parse(e.at) }));
}

describe('compactOps: a batch of totals operations folded before the script', () => {
  it.each([[1, 1], [7, 2], [40, 3], [120, 4]])('when %i orders are folded (seed %i), then the totals, names, recent lists and pending confirmations come out the same', (n, seed) => {
    const ops = batch(n, seed).flatMap((b) => b.ops);
    for (const now of [0, Date.now() + 86_400_000]) {
      const one = emptyState();
      const folded = emptyState();
      applyOps(one, ops, now);
      applyOps(folded, compactOps(ops), now);
      expect(plain(folded)).toEqual(plain(one));
    }
  });

  it('when many entries touch the same fields, then each field is one increment, each stream one touch, and a list keeps only what its trim keeps', () => {
    const ops = batch(120, 5).flatMap((b) => b.ops);
    const out = compactOps(ops);
    const incs = out.filter((o) => o[0] === 'hincrby').map((o) => `${o[1]} ${o[2]}`);
    expect(new Set(incs).size).toBe(incs.length);
    expect(out.length).toBeLessThan(ops.length / 3);
    for (const s of ['s0', 's1', 's2']) expect(out.filter((o) => o[0] === 'lpush' && o[1].endsWith(s)).length).toBeLessThanOrEqual(RECENT_MAX);
    // a stream's seq moves once per script whatever the number of its entries: one touch each is enough
    expect(out.filter((o) => o[0] === 'touch').map((o) => o[1]).sort()).toEqual(['s0', 's1', 's2']);
  });
});

describe('compactOps and the remittance ops', () => {
  it('when a remittance\'s ztrim follows the increment of its remitted field, then the folded increment still comes before it (it reads that field)', () => {
    const ops: TotalsOp[] = [
      ['hincrby', 'tot:a:ag1', 'donationFen', '100'],
      ['hincrby', 'tot:a:ag1', 'remittedFen', '4500'],
      ['ztrim', 'tot:a:ag1:zc', 'tot:a:ag1:zt', 'tot:a:ag1', 'remittedFen', 'x'],
      ['hincrby', 'tot:a:ag1', 'donationFen', '50'],
    ];
    const out = compactOps(ops);
    const at = (pred: (o: TotalsOp) => boolean) => out.findIndex(pred);
    expect(at((o) => o[0] === 'hincrby' && o[2] === 'remittedFen')).toBeLessThan(at((o) => o[0] === 'ztrim'));
    // increments after the barrier still fold among themselves, and nothing is lost
    expect(out.filter((o) => o[0] === 'hincrby' && o[2] === 'donationFen').map((o) => o[3])).toEqual(['100', '50']);
  });
});

describe('compactOps: sums stay exact past 2^53', () => {
  it('when increments of one field add up beyond Number.MAX_SAFE_INTEGER, then the folded HINCRBY carries the exact integer', () => {
    const big = '9007199254740991'; // 2^53 - 1
    const folded = compactOps([['hincrby', 'k', 'f', big], ['hincrby', 'k', 'f', '2'], ['hincrby', 'k', 'g', '-5'], ['hincrby', 'k', 'g', '3']]);
    expect(folded).toEqual([['hincrby', 'k', 'f', '9007199254740993'], ['hincrby', 'k', 'g', '-2']]);
    // an increment that is itself past the safe range is added exactly too
    expect(compactOps([['hincrby', 'k', 'f', '1'], ['hincrby', 'k', 'f', '90071992547409930']])).toEqual([['hincrby', 'k', 'f', '90071992547409931']]);
  });
});
