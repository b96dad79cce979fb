import type { Deps } from '../deps';
import { donationOf, matchesForOrder } from '../allocator';
import { fromHash, readOrder, OrderSnapshot } from './orders.store';
import { latestOrderState } from './orders.models';

/** The order's current snapshot: Redis first (a just-placed order is never "not found"), then the projection. */
export async function getOrder(deps: Deps, orderId: string): Promise<OrderSnapshot | null> {
  const hot = await readOrder(deps, orderId).catch(() => null);
  if (hot) return hot;
  const d = await latestOrderState(deps.db, orderId);
  if (!d) return null;
  return fromHash({
    orderId: d.orderId, status: d.status, ver: String(d.orderVersion), viewerId: d.viewerId, nick: '', streamId: d.streamId, productId: d.productId,
    productName: d.productName, hostId: d.hostId, charityId: d.charityId, charityName: d.charityName, quantity: String(d.quantity),
    unitPriceFen: String(d.unitPriceFen), pledgePerUnitFen: String(d.pledgePerUnitFen), createdAt: d.createdAt, expiresAt: d.expiresAt,
    paidAt: d.paidAt ?? '', paymentId: d.paymentId ?? '', idempotencyKey: d.idempotencyKey, bodyHash: d.bodyHash,
    ...(d.refundedQuantity ? { refundedQty: String(d.refundedQuantity), restockedQty: String(d.restockedQuantity ?? 0) } : {}),
    ...(d.agreementId ? { agreementId: d.agreementId, donationFen: String(d.donationFen ?? 0), donationUnits: String(d.donationUnits ?? 0) } : {}),
  });
}

/** Where the order's donation stands in the charity's ledger, as the allocator recorded it in Redis (no ledger scan). */
export async function donationStatus(deps: Deps, o: OrderSnapshot): Promise<{ status: 'pending' | 'allocated' | 'partially_reversed' | 'reversed'; entrySeq?: number; matchedFen?: number }> {
  if (o.status !== 'paid' && o.status !== 'refunded' && o.status !== 'partially_refunded') return { status: 'pending' };
  const donation = await donationOf(deps, o.orderId, o.charityId);
  if (donation.status === 'pending') return donation;
  const matches = await matchesForOrder(deps, o.streamId, o.charityId, o.orderId);
  return { ...donation, matchedFen: matches.reduce((sum, m) => sum + m.amountFen - m.returnedFen, 0) };
}
