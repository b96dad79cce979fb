import { chainEntries, hashEntry, verifyChain } from '../../src/allocator/chain';
import { GENESIS, type UnchainedEntry } from '../../src/allocator/ledger.types';
import { entriesForEvent, remitEntry } from '../../src/allocator/allocate';
import { applyOps, emptyState, entryOps } from '../../src/allocator/totals';
import { donationStage } from '../../src/statements/receipt.verify';
import { StatementAccumulator } from '../../src/statements/statement.math';
import { orderEvent } from '../helpers/order-events';
import type { OrderEvent, RemittanceEvent } from '../../src/events';
import { parseLogEvent, parseOrderEvent } from '../../src/events';

const old = (i: number): UnchainedEntry => ({
  key: `e${i}:allocation`, charityId: 'c1', kind: (i % 3 === 0 ? 'reversal' : i % 3 === 1 ? 'allocation' : 'match'), amountFen: i % 3 === 0 ? -150 : 150 + i,
  salesFen: i % 3 === 2 ? 0 : 1500, quantity: i % 3 === 2 ? 0 : 1, orderId: `o${i}`, streamId: 's1', productId: 'p1', hostId: 'h1', eventId: `e${i}`,
  matchId: i % 3 === 2 ? 'm1' : null, at: `2026-11-29T10:00:0${i}.000Z`,
});

// the hashes the code before issue 15 (commit b3c5ad7) gave these five entries
const HASHES_BEFORE = [
  'e3111818bf010dfd09ef19d5d7fc19b4a28bec1b94cf7078997bf2272d20bee8', '8e65161dfbd7e00c902e9bee4beb55801732c768bae923c453d0d0471ba7df79',
  '14adea0f878fa55b99507996c0b0d9e4728e5667ce7e1c6b487d8b2911e3f69c', 'f042c71a25d354b9af2bf99ffdba7f0bbe6a8d33fb8f18871c209b1cf061da6c',
  'fd2545892139e5116ece511db77e9d0f5c9d289763b2a3148889839e1c70dafc',
];

const rmEvent = (type: RemittanceEvent['type'] = 'remittance.sent', extra: Partial<RemittanceEvent> = {}): RemittanceEvent => ({
  eventId: `rm:rm1:${type === 'remittance.sent' ? 'sent' : 'answer'}`, type, version: 1, occurredAt: '2026-12-01T08:00:00.000Z', remittanceId: 'rm1', agreementId: 'ag1',
  charityId: 'c1', hostId: 'h1', amountFen: 3000, paidAt: '2026-12-01T07:00:00.000Z', reference: 'ICBC 1', coversFrom: 1, coversTo: 3, ...extra,
});

describe('ledger entries of issue 15', () => {
  it('when a chain was written before agreements existed, then today\'s code gives the same hashes and it verifies', () => {
    const chain = chainEntries(GENESIS, [1, 2, 3, 4, 5].map(old));
    expect(chain.map((e) => e.hash)).toEqual(HASHES_BEFORE);
    expect(verifyChain('c1', chain).problems).toEqual([]);
  });

  it('when an entry names an agreement or a remittance, then that is hashed: changing it breaks the hash', () => {
    const [e] = chainEntries(GENESIS, [{ ...old(1), agreementId: 'ag1' }]);
    expect(e.hash).not.toBe(HASHES_BEFORE[0]);
    expect(hashEntry({ ...e, agreementId: 'ag2' })).not.toBe(e.hash);
    const [r] = chainEntries(GENESIS, [remitEntry(rmEvent())]);
    expect(verifyChain('c1', [r]).problems).toEqual([]);
    expect(hashEntry({ ...r, remit: { ...r.remit!, amountFen: 30000 } })).not.toBe(r.hash);
    expect(hashEntry({ ...r, remit: { ...r.remit!, coversTo: 4 } })).not.toBe(r.hash);
    const [split] = chainEntries(GENESIS, [remitEntry(rmEvent('remittance.sent', { byStream: { s1: 1000, s2: 2000 } }))]);
    expect(hashEntry({ ...split, remit: { ...split.remit!, byStream: { s1: 2000, s2: 1000 } } })).not.toBe(split.hash);
    expect(hashEntry({ ...split, remit: { ...split.remit!, byStream: { s2: 2000, s1: 1000 } } })).toBe(split.hash);
  });

  it('when an order donates less than its pledge (cap), then it allocates donationFen and partial refunds reverse refundShare pieces that add up to it', () => {
    const spec = { orderId: 'o1', charityId: 'c1', streamId: 's1', quantity: 3, pledgePerUnitFen: 500 };
    const paid: OrderEvent = { ...orderEvent('order.paid', spec), agreementId: 'ag1', donationFen: 1000 };
    const refund = (n: number, units: number, done: number): OrderEvent => ({ ...orderEvent('order.refunded', spec), eventId: `o1.r${n}`, refundNo: n, refundQuantity: units, refundedQuantity: done, orderVersion: 2 + n, status: done === 3 ? 'refunded' : 'partially_refunded', agreementId: 'ag1', donationFen: 1000 });
    const [alloc] = entriesForEvent(paid, []);
    expect([alloc.amountFen, alloc.agreementId]).toEqual([1000, 'ag1']);
    const pieces = [refund(1, 1, 1), refund(2, 1, 2), refund(3, 1, 3)].map((e) => entriesForEvent(e, [])[0].amountFen);
    expect(pieces).toEqual([-333, -333, -334]);
    expect(pieces.reduce((a, b) => a + b, 0)).toBe(-1000);
  });

  it('when remittance and acknowledgement entries are folded into totals, then they move remitted and acknowledged, never the donation total', () => {
    const st = emptyState();
    const [a] = chainEntries(GENESIS, entriesForEvent({ ...orderEvent('order.paid', { orderId: 'o1', charityId: 'c1', streamId: 's1', quantity: 2, pledgePerUnitFen: 2000 }, new Date('2026-11-01T00:00:00Z')), agreementId: 'ag1' }, []));
    applyOps(st, entryOps(a, { charityName: 'c', productName: 'p', buyer: 'b' }, 1000), Date.parse('2026-12-01T00:00:00Z'));
    const chain = chainEntries({ seq: a.seq, hash: a.hash }, [remitEntry(rmEvent()), remitEntry(rmEvent('remittance.acknowledged'))]);
    for (const e of chain) applyOps(st, entryOps(e, { charityName: '', productName: '', buyer: '' }, 1000), Date.now());
    const h = (k: string) => Object.fromEntries(st.hashes.get(k) ?? []);
    expect(h('tot:a:ag1')).toMatchObject({ pledgedFen: '4000', confirmedFen: '4000', remittedFen: '3000', acknowledgedFen: '3000' });
    expect(h('tot:c:c1')).toMatchObject({ donationFen: '4000', remittedFen: '3000', acknowledgedFen: '3000', balanceFen: '4000' });
    expect(st.zsets.get('tot:a:ag1:zc')?.get('1')).toBe(4000);
    // once remittances pass an allocation's running sum, coverage and overdue no longer need it: forgotten
    const [more] = chainEntries({ seq: chain[1].seq, hash: chain[1].hash }, [remitEntry(rmEvent('remittance.sent', { eventId: 'rm:rm2:sent', remittanceId: 'rm2', amountFen: 1000 }))]);
    applyOps(st, entryOps(more, { charityName: '', productName: '', buyer: '' }, 1000), Date.now());
    expect([st.zsets.get('tot:a:ag1:zc')?.has('1'), st.zsets.get('tot:a:ag1:zt')?.has('1'), st.hashes.get('tot:a:ag1:st')?.has('1'), h('tot:a:ag1').remittedFen]).toEqual([false, false, false, '4000']);
  });

  it('when a statement covers remittance entries, then it lists them apart and its figures are unchanged', () => {
    const [a, r] = chainEntries(GENESIS, [{ ...old(1), agreementId: 'ag1' }, remitEntry(rmEvent())]);
    const acc = new StatementAccumulator('c1', new Date('2026-01-01T00:00:00Z'), new Date('2027-01-01T00:00:00Z'));
    acc.add(a); acc.add(r);
    const s = acc.finish({ streams: new Map(), hosts: new Map(), products: new Map() });
    expect([s.allocatedFen, s.closingFen, s.entries, s.byStream.length]).toEqual([151, 151, 2, 1]);
    expect(s.remittances).toEqual([expect.objectContaining({ seq: 2, kind: 'remittance', remittanceId: 'rm1', amountFen: 3000, coversFrom: 1, coversTo: 3 })]);
  });

  it('when a receipt\'s entry is covered by a remittance, then its stage follows the remittance', () => {
    const alloc = { seq: 5, at: '2026-11-01T00:00:00.000Z' };
    const now = Date.parse('2026-11-20T00:00:00Z');
    const week = 7 * 86_400_000;
    expect(donationStage(null, week, now, [])).toBe('pledged');
    expect(donationStage(alloc, week, Date.parse('2026-11-02T00:00:00Z'), [])).toBe('pledged');
    expect(donationStage(alloc, week, now, [])).toBe('confirmed');
    expect(donationStage(alloc, week, now, [{ coversFrom: 6, coversTo: 9, status: 'acknowledged', entrySeq: 10 }])).toBe('confirmed');
    expect(donationStage(alloc, week, now, [{ coversFrom: 1, coversTo: 5, status: 'sent', entrySeq: 10 }])).toBe('remitted');
    expect(donationStage(alloc, week, now, [{ coversFrom: 1, coversTo: 5, status: 'sent' }])).toBe('confirmed');
    expect(donationStage(alloc, week, now, [{ coversFrom: 5, coversTo: 5, status: 'acknowledged', entrySeq: 10 }])).toBe('acknowledged');
  });

  it('when the topic carries a remittance event, then the allocator parses it and an order-only consumer is told to skip it, not dead-letter it', () => {
    const v = JSON.stringify(rmEvent());
    expect(parseLogEvent(v)).toMatchObject({ ok: true, event: { type: 'remittance.sent' } });
    expect(parseOrderEvent(v)).toMatchObject({ ok: false, notAnOrder: true });
    const bad = JSON.stringify({ ...rmEvent(), amountFen: 0 });
    expect(parseLogEvent(bad)).toMatchObject({ ok: false });
    expect(parseOrderEvent(bad)).not.toHaveProperty('notAnOrder');
  });
});
