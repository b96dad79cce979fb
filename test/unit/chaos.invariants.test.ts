import { checkInvariants, Facts, StoredOrder } from '../../scripts/chaos/invariants';
import { chainEntries } from '../../src/allocator/chain';
import { GENESIS, LedgerEntry, UnchainedEntry } from '../../src/allocator/ledger.types';
import type { StreamTotals } from '../../src/events';

const order = (id: string, status: string, quantity = 2, perUnit = 500): StoredOrder => ({
  _id: id, status, charityId: 'c1', streamId: 's1', productId: 'p1', quantity, totalFen: quantity * 2000, pledgeTotalFen: quantity * perUnit,
});

const entry = (o: StoredOrder, kind: UnchainedEntry['kind'], amountFen: number): UnchainedEntry => ({
  key: `${o._id}:${kind}`, charityId: o.charityId, kind, amountFen, salesFen: kind === 'allocation' ? o.totalFen : kind === 'reversal' ? -o.totalFen : 0,
  quantity: kind === 'allocation' ? o.quantity : kind === 'reversal' ? -o.quantity : 0, orderId: o._id, streamId: o.streamId, productId: o.productId,
  hostId: 'h1', eventId: `${o._id}:${kind}`, matchId: kind.startsWith('match') ? 'm1' : null, at: '2026-01-01T00:00:00.000Z',
});

const totals = (t: Partial<StreamTotals>): StreamTotals => ({
  streamId: 's1', seq: 9, status: 'live', goalFen: 0, salesFen: 0, units: 0, orders: 0, donationFen: 0, matchedFen: 0, confirmedDonationFen: 0,
  byCharity: [], byProduct: [], matches: [], recent: [], ...t,
});

/** A consistent world: a paid order (matched), a refunded one, an expired one; stock 20. */
function world(): Facts {
  const [paid, refunded, expired] = [order('o1', 'paid'), order('o2', 'refunded', 1), order('o3', 'expired', 3)];
  const ledger = chainEntries(GENESIS, [
    entry(paid, 'allocation', 1000), entry(paid, 'match', 1000), entry(refunded, 'allocation', 500),
    entry(refunded, 'match', 500), entry(refunded, 'reversal', -500), entry(refunded, 'match_reversal', -500),
  ]);
  const t = totals({ salesFen: 4000, units: 2, orders: 1, donationFen: 1000, matchedFen: 1000, byCharity: [{ charityId: 'c1', name: 'C', donationFen: 1000, matchedFen: 1000 }] });
  return {
    products: new Map([['p1', { stock: 20, remaining: 17 }]]),
    orders: [paid, refunded, expired],
    ledger,
    totals: new Map([['s1', { api: t, ws: structuredClone(t) }]]),
    client: { accepted: new Map([['o1', { productId: 'p1', quantity: 2 }], ['o2', { productId: 'p1', quantity: 1 }], ['o3', { productId: 'p1', quantity: 3 }]]), paymentsAcked: new Set(['o1', 'o2']), refundsAcked: new Set(['o2']) },
  };
}

const subjects = (f: Facts) => checkInvariants(f).map((p) => `${p.check}: ${p.subject}`);

describe('chaos invariant check', () => {
  it('when everything agrees, then it finds no problem', () => {
    expect(checkInvariants(world())).toEqual([]);
  });

  it('when more units are held than were stocked, then it names the product as oversold', () => {
    const f = world();
    f.products.set('p1', { stock: 2, remaining: 0 });
    expect(subjects(f)).toContain('oversell: product p1');
  });

  it('when buyers were told more units were paid than were stocked, then it names the product even if MongoDB lost the orders', () => {
    const f = world();
    f.products.set('p1', { stock: 2, remaining: 0 });
    f.orders = [];
    f.ledger = [];
    f.totals.clear();
    f.client.refundsAcked.clear();
    expect(subjects(f).filter((s) => s.startsWith('oversell'))).toEqual(['oversell: product p1']);
  });

  it('when an expired order did not give its stock back, then it names the product', () => {
    const f = world();
    f.products.set('p1', { stock: 20, remaining: 14 });
    expect(subjects(f)).toEqual(['stock: product p1']);
  });

  it('when an accepted order is missing from MongoDB, then it names the order', () => {
    const f = world();
    f.client.accepted.set('o9', { productId: 'p1', quantity: 1 });
    expect(subjects(f)).toEqual(['order-stored: order o9']);
  });

  it('when an acknowledged payment is stored as expired, then it names the order', () => {
    const f = world();
    f.client.paymentsAcked.add('o3');
    expect(subjects(f)).toEqual(['payment: order o3', 'payment-ledger: order o3']);
  });

  it('when an acknowledged payment has no allocation in the ledger, then it names the order even if MongoDB agrees', () => {
    const f = world();
    const o4 = order('o4', 'paid', 1);
    f.orders.push(o4);
    f.client.accepted.set('o4', { productId: 'p1', quantity: 1 });
    f.client.paymentsAcked.add('o4');
    f.products.set('p1', { stock: 20, remaining: 16 });
    expect(subjects(f)).toEqual(expect.arrayContaining(['payment-ledger: order o4', 'ledger: order o4']));
  });

  it('when an order stays reserved, then it names it as not final', () => {
    const f = world();
    f.orders[2] = { ...f.orders[2], status: 'reserved' };
    f.products.set('p1', { stock: 20, remaining: 14 });
    expect(subjects(f)).toEqual(['order-final: order o3']);
  });

  it('when an entry is missing, then it names the gap, the order and the charity sum', () => {
    const f = world();
    f.ledger = f.ledger.filter((e) => e.seq !== 1);
    const s = subjects(f);
    expect(s).toContain('chain: charity c1 entry 2');
    expect(s).toContain('ledger: order o1');
    expect(s).toContain('ledger-sum: charity c1');
  });

  it('when an entry is counted twice, then it names the duplicate and the totals stay checked against the ledger', () => {
    const f = world();
    const dup: LedgerEntry = { ...f.ledger[0] };
    f.ledger.push(dup);
    const s = subjects(f);
    expect(s).toContain(`chain: entry ${dup.key}`);
    expect(s).toContain('ledger: order o1');
  });

  it('when an amount was altered, then the hash check names the entry', () => {
    const f = world();
    f.ledger[0] = { ...f.ledger[0], amountFen: 1001 };
    const s = subjects(f);
    expect(s).toContain('chain: charity c1 entry 1');
    expect(s).toContain('ledger-sum: charity c1');
  });

  it('when the WebSocket shows a stale total, then it names the stream, the source and the field', () => {
    const f = world();
    f.totals.get('s1')!.ws!.donationFen = 500;
    expect(subjects(f)).toContain('totals: stream s1 (ws) donationFen');
  });

  it('when a refunded order keeps its match, then it names the order', () => {
    const f = world();
    f.ledger = chainEntries(GENESIS, f.ledger.filter((e) => e.kind !== 'match_reversal'));
    f.totals.get('s1')!.api!.matchedFen = 1500;
    f.totals.get('s1')!.ws!.matchedFen = 1500;
    f.totals.get('s1')!.api!.byCharity[0].matchedFen = 1500;
    f.totals.get('s1')!.ws!.byCharity[0].matchedFen = 1500;
    expect(subjects(f)).toEqual(['ledger: order o2']);
  });
});
