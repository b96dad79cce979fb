import type { OrderSnapshot } from './orders.store';

/** The order as API.md shows it to its viewer, its host and the operator. */
export function orderView(o: OrderSnapshot) {
  const donation = o.donationFen ?? o.pledgePerUnitFen * o.quantity;
  return {
    id: o.orderId, status: o.status, streamId: o.streamId, productId: o.productId, productName: o.productName, quantity: o.quantity,
    unitPriceFen: o.unitPriceFen, totalFen: o.unitPriceFen * o.quantity,
    pledge: {
      charityId: o.charityId, charityName: o.charityName, perUnitFen: o.pledgePerUnitFen, totalFen: o.pledgePerUnitFen * o.quantity,
      // what this order gives under its agreement's cap, known before paying (an order from before agreements gives its whole pledge)
      agreementId: o.agreementId ?? null, donates: donation > 0, donationFen: donation,
    },
    createdAt: o.createdAt, expiresAt: o.expiresAt, ...(o.paidAt ? { paidAt: o.paidAt } : {}), ...(o.refundedQty ? { refundedQuantity: o.refundedQty } : {}),
  };
}
