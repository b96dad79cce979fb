import { allocate, remitEntry, type PositionedEvent } from '../../src/allocator/allocate';
import { chainEntries } from '../../src/allocator/chain';
import { ledgerDoc, storedDoc } from '../../src/allocator/ledger.repository';
import { displayOf } from '../../src/allocator/totals.store';
import type { OrderEvent, RemittanceEvent } from '../../src/events';
import { orderEvent } from '../helpers/order-events';

describe('the stored form of a ledger entry', () => {
  it('when the allocator writes allocations, reversals, matches, an agreement\'s entries and remittances, then each document is the entry\'s ledgerDoc with its display fields and Kafka position, nothing more or less', () => {
    const o = { orderId: 'o1', charityId: 'c1', streamId: 's1', quantity: 3, pledgePerUnitFen: 100 };
    const withAgreement: OrderEvent = { ...orderEvent('order.paid', { ...o, orderId: 'o2' }), agreementId: 'ag1', donationFen: 250 };
    const partial: OrderEvent = { ...orderEvent('order.refunded', o), eventId: 'o1.order.refunded.1', status: 'partially_refunded', orderVersion: 3, refundNo: 1, refundQuantity: 1, refundedQuantity: 1, refundId: 'r1' };
    const events: PositionedEvent[] = [orderEvent('order.paid', o), partial, withAgreement].map((event, offset) => ({ event, partition: 2, offset }));
    const [plan] = allocate(events, new Map(), new Map([['o1.order.paid', [{ matchId: 'm1', amountFen: 120, wantFen: 150 }]]]));
    const sent: RemittanceEvent = {
      eventId: 'rm:1:sent', type: 'remittance.sent', version: 1, occurredAt: new Date().toISOString(), remittanceId: 'rm1', agreementId: 'ag1', charityId: 'c1', hostId: 'h1',
      amountFen: 250, paidAt: new Date().toISOString(), reference: 'BANK-1', coversFrom: 1, coversTo: 4, byStream: { s1: 250 },
    };
    const [remit] = chainEntries(plan.after, [remitEntry(sent)]);
    const rows = [...plan.entries.map((e) => ({ e, d: displayOf(plan.sources.get(e.key)!.event) })), { e: remit, d: displayOf(sent) }];
    expect(rows.map((r) => r.e.kind)).toEqual(['allocation', 'match', 'reversal', 'allocation', 'remittance']);
    expect(rows.some((r) => r.d.partialRefund)).toBe(true);
    for (const [i, { e, d }] of rows.entries()) expect(storedDoc(e, d, 2, i)).toStrictEqual({ ...ledgerDoc(e), ...d, partition: 2, offset: i });
  });
});
