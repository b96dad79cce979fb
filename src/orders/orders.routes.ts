import type { Request } from 'express';
import type { Api } from '../infra/http';
import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { rateLimit, byAddress, byPrincipal } from '../infra/rate-limit';
import * as S from './orders.schemas';
import { placeOrder } from './place-order';
import { payOrder } from './pay-order';
import { refundOrder } from './refund-order';
import { cancelOrder } from './cancel-order';
import { getOrder, donationStatus } from './get-order';
import { orderView } from './order-view';
import { verifyPaymentSignature } from './payment-signature';

export function ordersRoutes(api: Api, deps: Deps): void {
  const tag = 'orders';
  const rl = deps.config.rateLimits;

  api.route({
    method: 'post', path: '/api/v1/orders', tag, auth: ['viewer'], headers: S.IdempotencyHeaders, body: S.PlaceOrderBody,
    summary: 'Buy a pinned product of a live stream; the answer says what the order gives and to whom',
    responses: { 201: { description: 'reserved', schema: S.Order }, 200: { description: 'the same order again (replayed Idempotency-Key)', schema: S.Order } },
    errors: [409],
    before: [rateLimit(deps, 'orders', rl.ordersPerMinute, 60, (req) => [byPrincipal(req), byAddress(req)])],
    hot: true,
  }, async ({ body, principal, req }) => {
    const key = req.headers['idempotency-key'] as string;
    const { order, replay } = await placeOrder(deps, { viewerId: principal!.id, idempotencyKey: key, ...body });
    return { status: replay ? 200 : 201, body: orderView(order) };
  });

  api.route({
    method: 'post', path: '/api/v1/orders/:id/cancel', tag, auth: ['viewer'], params: S.OrderIdParams,
    summary: 'Cancel your own unpaid order; its stock returns at once', responses: { 200: { description: 'cancelled', schema: S.CancelAnswer } }, errors: [404, 409],
  }, async ({ params, principal }) => ({ status: 200, body: await cancelOrder(deps, principal!, params.id) }));

  api.route({
    method: 'get', path: '/api/v1/orders/:id', tag, auth: ['viewer', 'host', 'operator'], params: S.OrderIdParams,
    summary: 'An order with its status and where its donation stands (its viewer, its host, the operator)',
    responses: { 200: { description: 'the order', schema: S.Order } }, errors: [404],
  }, async ({ params, principal }) => {
    const o = await getOrder(deps, params.id);
    const p = principal!;
    const mine = o && (p.role === 'operator' || (p.role === 'viewer' && o.viewerId === p.id) || (p.role === 'host' && o.hostId === p.id));
    if (!o || !mine) throw new DomainError('NOT_FOUND', 'no such order');
    return { status: 200, body: { ...orderView(o), donation: await donationStatus(deps, o) } };
  });

  api.route({
    method: 'post', path: '/api/v1/payments/notify', tag: 'payments', auth: 'public', headers: S.PaymentHeaders, body: S.PaymentNotifyBody,
    summary: 'Signed payment notification from the payment provider (HMAC-SHA256 over "<t>.<raw body>")',
    responses: { 200: { description: 'paid (also for a repeated notification)', schema: S.PaymentAnswer } }, errors: [401, 404, 409],
    before: [
      rateLimit(deps, 'payments', rl.paymentsPerSecond, 1, (req) => [byAddress(req)]),
      (req, _res, next) => {
        const check = verifyPaymentSignature(deps.config.auth.paymentSecret, req.headers['livegive-signature'] as string | undefined,
          (req as Request & { rawBody?: Buffer }).rawBody, deps.config.auth.paymentToleranceSeconds);
        next(check.ok ? undefined : new DomainError('BAD_SIGNATURE', `payment signature ${check.reason}`));
      },
    ],
    hot: true,
  }, async ({ body }) => ({ status: 200, body: await payOrder(deps, body) }));

  api.route({
    method: 'post', path: '/api/v1/orders/:id/refund', tag, auth: ['host', 'operator'], params: S.OrderIdParams, body: S.RefundBody, headers: S.RefundHeaders,
    summary: 'Refund a paid order, or some of its units (its host, the operator); exactly those units\' donation is reversed',
    responses: { 200: { description: 'refunded or partially refunded', schema: S.RefundAnswer } }, errors: [404, 409],
  }, async ({ params, principal, body, req }) => ({
    status: 200, body: await refundOrder(deps, principal!, params.id, { quantity: body?.quantity, key: req.headers['idempotency-key'] as string | undefined }),
  }));
}
