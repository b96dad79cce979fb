import type { Deps } from '../deps';
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
  });
}

/** Where the order's donation stands in the charity's ledger (read through the ledger's orderId index). */
export async function donationStatus(deps: Deps, o: OrderSnapshot): Promise<{ status: 'pending' | 'allocated' | 'reversed'; entrySeq?: number; matchedFen?: number }> {
  if (o.status !== 'paid' && o.status !== 'refunded') return { status: 'pending' };
  const entries = await deps.db.collection<{ _id: string; kind: string; seq: number; amountFen: number }>('ledger')
    .find({ orderId: o.orderId, charityId: o.charityId }, { projection: { kind: 1, seq: 1, amountFen: 1 } }).toArray();
  const alloc = entries.find((e) => e.kind === 'allocation');
  const rev = entries.find((e) => e.kind === 'reversal');
  const matchedFen = entries.filter((e) => e.kind === 'match' || e.kind === 'match_reversal').reduce((s, e) => s + e.amountFen, 0);
  if (rev) return { status: 'reversed', entrySeq: rev.seq, matchedFen };
  if (alloc) return { status: 'allocated', entrySeq: alloc.seq, matchedFen };
  return { status: 'pending' };
}
