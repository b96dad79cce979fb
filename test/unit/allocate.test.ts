import { allocate, entriesForEvent, matchWant, type PositionedEvent } from '../../src/allocator/allocate';
import { verifyChain } from '../../src/allocator/chain';
import { applyOps, emptyState, entryOps, totalsKeys } from '../../src/allocator/totals';
import { orderEvent } from '../helpers/order-events';

const o = (id: string, charityId = 'c1', quantity = 2) => ({ orderId: id, charityId, streamId: 's1', quantity, pledgePerUnitFen: 150 });
const pe = (e: ReturnType<typeof orderEvent>, offset: number): PositionedEvent => ({ event: e, partition: 0, offset });
const display = { charityName: 'C', productName: 'P', buyer: '张**' };

describe('allocate (pure)', () => {
  it('when an order is paid and later refunded, then an allocation and an equal negative reversal follow each other in the chain', () => {
    const [plan] = allocate([pe(orderEvent('order.paid', o('a')), 0), pe(orderEvent('order.refunded', o('a')), 1)], new Map(), new Map());
    expect(plan.entries.map((e) => [e.seq, e.kind, e.amountFen, e.quantity])).toEqual([[1, 'allocation', 300, 2], [2, 'reversal', -300, -2]]);
    expect(verifyChain('c1', plan.entries).problems).toEqual([]);
    expect(plan.after).toMatchObject({ seq: 2, offset: 1, hash: plan.entries[1].hash });
  });

  it('when placed and expired events arrive, then they produce no entries but still move the offset', () => {
    const [plan] = allocate([pe(orderEvent('order.placed', o('a')), 5), pe(orderEvent('order.expired', o('a')), 6)], new Map(), new Map());
    expect(plan.entries).toEqual([]);
    expect(plan.after).toMatchObject({ seq: 0, offset: 6 });
  });

  it('when events at or below the head offset are redelivered, then they are skipped and the rest continue the chain', () => {
    const events = [0, 1, 2].map((i) => pe(orderEvent('order.paid', o(`o${i}`)), i));
    const [first] = allocate(events.slice(0, 2), new Map(), new Map());
    const [again] = allocate(events, new Map([['c1', first.after]]), new Map());
    expect(again.entries.map((e) => [e.seq, e.orderId])).toEqual([[3, 'o2']]);
    expect(verifyChain('c1', [...first.entries, ...again.entries]).problems).toEqual([]);
  });

  it('when the same batch is planned twice from the same head, then the entries are identical (a retry cannot fork the chain)', () => {
    const events = [pe(orderEvent('order.paid', o('x', 'c1')), 0), pe(orderEvent('order.paid', o('y', 'c2')), 1)];
    const m = new Map([[events[0].event.eventId, [{ matchId: 'm2', amountFen: 5, wantFen: 300 }, { matchId: 'm1', amountFen: 300, wantFen: 300 }]]]);
    expect(allocate(events, new Map(), m)).toEqual(allocate(events, new Map(), m));
    const c1 = allocate(events, new Map(), m).find((p) => p.charityId === 'c1')!;
    expect(c1.entries.map((e) => [e.kind, e.matchId, e.amountFen])).toEqual([['allocation', null, 300], ['match', 'm1', 300], ['match', 'm2', 5]]);
  });

  it('when a match gave nothing (cap exhausted), then no zero entry is written; a refund reverses what was matched', () => {
    expect(entriesForEvent(orderEvent('order.paid', o('z')), [{ matchId: 'm1', amountFen: 0, wantFen: 300 }]).map((e) => e.kind)).toEqual(['allocation']);
    const rev = entriesForEvent(orderEvent('order.refunded', o('z')), [{ matchId: 'm1', amountFen: 120, wantFen: 120 }]);
    expect(rev.map((e) => [e.kind, e.amountFen])).toEqual([['reversal', -300], ['match_reversal', -120]]);
  });

  it('matches a ratio in whole fen, rounding down, with integer arithmetic only', () => {
    expect(matchWant(300, 100)).toBe(300);
    expect(matchWant(299, 50)).toBe(149);
    expect(matchWant(1, 33)).toBe(0);
    expect(matchWant(2 ** 45, 100)).toBe(2 ** 45);
  });
});

describe('totals ops (pure)', () => {
  // the match script answers 100 fen taken for the payment, and the same 100 given back for a refund
  const plan = (events: PositionedEvent[]) => allocate(events, new Map(), new Map(events.map((x) => [x.event.eventId, [{ matchId: 'm1', amountFen: 100, wantFen: x.event.type === 'order.paid' ? 300 : 100 }]])))[0];

  it('when a paid order is refunded inside the window, then every total returns to zero and nothing is confirmed', () => {
    const p = plan([pe(orderEvent('order.paid', o('a')), 0), pe(orderEvent('order.refunded', o('a')), 1)]);
    const st = emptyState();
    for (const e of p.entries) applyOps(st, entryOps(e, display, 60_000), Date.parse(e.at));
    const s = Object.fromEntries(st.hashes.get(totalsKeys.stream('s1'))!);
    expect(s).toMatchObject({ salesFen: '0', units: '0', orders: '0', donationFen: '0', matchedFen: '0', 'c:c1:d': '0' });
    expect(s.confirmedDonationFen).toBeUndefined();
    expect(st.pending.size).toBe(0);
  });

  it('when the refund window has passed, then the donation is confirmed; a later refund takes it back out of confirmed too', () => {
    const paid = plan([pe(orderEvent('order.paid', o('b')), 0)]);
    const st = emptyState();
    for (const e of paid.entries) applyOps(st, entryOps(e, display, 1000), Date.parse(e.at) + 5000);
    expect(st.hashes.get(totalsKeys.charity('c1'))!.get('confirmedDonationFen')).toBe('300');
    const [refund] = allocate([pe(orderEvent('order.refunded', o('b')), 1)], new Map([['c1', paid.after]]), new Map());
    for (const e of refund.entries) applyOps(st, entryOps(e, display, 1000), Date.now());
    expect(st.hashes.get(totalsKeys.charity('c1'))!.get('confirmedDonationFen')).toBe('0');
    expect(st.hashes.get(totalsKeys.charity('c1'))!.get('balanceFen')).toBe('100');
  });
});
