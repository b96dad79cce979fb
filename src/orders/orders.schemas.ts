import { z, Id, Fen } from '../infra/zod';

export const PlaceOrderBody = z.object({
  streamId: Id,
  productId: Id,
  quantity: z.number().int('must be a whole number').min(1).max(10_000),
}).strict().openapi('PlaceOrder');

export const IdempotencyHeaders = z.object({ 'idempotency-key': z.string().min(1).max(255).openapi({ description: 'unique per intended order; a retry with the same key and body returns the same order' }) });

const Pledge = z.object({
  charityId: z.string(), charityName: z.string(), perUnitFen: Fen, totalFen: Fen,
  agreementId: z.string().nullable().openapi({ description: 'the pledge agreement the order sells under (null: an order from before agreements)' }),
  donates: z.boolean().openapi({ description: 'whether this order still donates under its agreement\'s cap' }),
  donationFen: Fen.openapi({ description: 'what this order donates (reserved at order time; less than totalFen once the cap is nearly reached)' }),
});
export const Order = z.object({
  id: z.string(), status: z.enum(['reserved', 'paid', 'expired', 'cancelled', 'refunded', 'partially_refunded']), streamId: z.string(), productId: z.string(),
  productName: z.string(), quantity: z.number().int(), unitPriceFen: Fen, totalFen: Fen, pledge: Pledge, createdAt: z.string(), expiresAt: z.string(),
  paidAt: z.string().optional(),
  refundedQuantity: z.number().int().optional().openapi({ description: 'units refunded so far (partial refunds)' }),
  donation: z.object({ status: z.enum(['pending', 'allocated', 'partially_reversed', 'reversed']), entrySeq: z.number().int().optional(), matchedFen: Fen.optional() }).optional(),
}).openapi('Order');

export const PaymentNotifyBody = z.object({
  orderId: Id,
  paymentId: z.string().min(1).max(128).regex(/^[\w.:-]+$/),
  amountFen: Fen.min(1),
  status: z.literal('succeeded'),
}).strict().openapi('PaymentNotification');
export const PaymentHeaders = z.object({ 'livegive-signature': z.string().max(300).optional().openapi({ description: 't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">' }) });
export const PaymentAnswer = z.object({ orderId: z.string(), status: z.enum(['paid', 'refunded', 'partially_refunded']) }).openapi('PaymentAnswer');
export const RefundAnswer = z.object({
  id: z.string(), status: z.enum(['refunded', 'partially_refunded']), refundedQuantity: z.number().int().openapi({ description: 'units refunded so far' }),
  refundQuantity: z.number().int().optional().openapi({ description: 'units of this refund' }),
  refundId: z.string().optional().openapi({ description: 'give it to the provider as out_refund_no: its refund notification then changes nothing more' }),
}).openapi('RefundAnswer');
export const RefundBody = z.object({ quantity: z.number().int('must be a whole number').min(1).max(1_000_000).optional() }).strict().openapi('RefundOrder');
export const RefundHeaders = z.object({ 'idempotency-key': z.string().min(1).max(100).regex(/^[\w.:-]+$/).optional().openapi({ description: 'optional: the same key again is the same refund' }) });
export const CancelAnswer = z.object({ id: z.string(), status: z.literal('cancelled') }).openapi('CancelAnswer');
export const OrderIdParams = z.object({ id: Id });
