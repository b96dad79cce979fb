import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { isUnacknowledged, orderKeys, orderOfReply, orderScripts, publishTransitions, newEventId } from './orders.store';
import { recordPaymentAnomaly } from './payment-anomalies';
import { unclaimOrder } from './release-order';

/** provider: who sent it ('livegive' for the HMAC notification; adapters name theirs) */
export interface PaymentNotice { orderId: string; paymentId: string; amountFen: number; provider?: string }

/**
 * Moves reserved → paid atomically (an expired, cancelled or refunded order cannot be paid; another amount is
 * refused) and publishes order.paid. A repeated notice re-publishes the same event id if Kafka has not yet
 * acknowledged it, so the provider's retries converge; the answer is 2xx only once Kafka has the event.
 */
export async function payOrder(deps: Deps, notice: PaymentNotice): Promise<{ orderId: string; status: 'paid' | 'refunded' | 'partially_refunded' }> {
  const k = orderKeys(deps, notice.orderId);
  if (!k) throw new DomainError('NOT_FOUND', 'no such order');
  const reply = await orderScripts(deps.redis).lgPayOrder(
    k.sentinel, k.order(notice.orderId), k.expiring, k.outbox, k.held,
    notice.orderId, notice.amountFen, notice.paymentId, newEventId(), new Date().toISOString(),
  );
  const [outcome, detail] = reply;
  switch (outcome) {
    case 'UNAVAILABLE': throw new DomainError('UNAVAILABLE', 'payments are paused while state is rebuilt', undefined, 2);
    case 'NOT_FOUND': throw new DomainError('NOT_FOUND', 'no such order');
    case 'AMOUNT_MISMATCH': throw new DomainError('AMOUNT_MISMATCH', 'the amount paid is not the order total', { expectedFen: Number(detail) });
    case 'ORDER_NOT_PAYABLE': throw new DomainError('ORDER_NOT_PAYABLE', `the order cannot be paid (${detail})`);
    case 'ALREADY': case 'OK': break;
    default: throw new DomainError('INTERNAL', 'unexpected payment script answer');
  }
  const order = orderOfReply(reply);
  // a second charge for a paid order is money the buyer must get back: recorded, never just answered 200
  if (outcome === 'ALREADY' && order.paymentId && order.paymentId !== notice.paymentId) {
    await recordPaymentAnomaly(deps, { kind: 'duplicate_charge', orderId: notice.orderId, provider: notice.provider ?? 'livegive', paymentId: notice.paymentId, amountFen: notice.amountFen, originalPaymentId: order.paymentId });
  }
  // a paid order no longer counts against its viewer's unpaid orders (lost, it ends at the order's expiry)
  if (outcome === 'OK') await unclaimOrder(deps, order.viewerId, order.orderId, '', false).catch(() => undefined);
  try {
    // a repeat publishes again only while Kafka has not acknowledged the event (it is still in the outbox)
    if (outcome === 'OK' || (await isUnacknowledged(deps, notice.orderId, 'order.paid'))) {
      await publishTransitions(deps, [{ orderId: notice.orderId, type: 'order.paid', order }]);
    }
  } catch {
    // the payment stands in Redis and the outbox keeps its event; the provider's retry republishes it
    throw new DomainError('UNAVAILABLE', 'payment recorded but not yet confirmed; please retry', undefined, 1);
  }
  return { orderId: notice.orderId, status: detail === 'refunded' || detail === 'partially_refunded' ? detail : 'paid' };
}
