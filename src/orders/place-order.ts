import { createHash, randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import { DomainError, ErrorCode } from '../infra/errors';
import { fromHash, orderOfReply, orderScripts, publishTransitions, OrderSnapshot } from './orders.store';
import { releaseReservation } from './release-order';

export interface PlaceOrderInput { viewerId: string; idempotencyKey: string; streamId: string; productId: string; quantity: number }

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
export const idemKeyHash = (key: string) => sha256(key).slice(0, 32);

/**
 * Reserves stock for a viewer in one Redis script (replay check, per-buyer limit, stock, pledge snapshot),
 * then publishes order.placed; if Kafka does not take it, the reservation is released and the answer is 503.
 */
export async function placeOrder(deps: Deps, input: PlaceOrderInput): Promise<{ order: OrderSnapshot; replay: boolean }> {
  if (deps.state.rebuilding) throw new DomainError('UNAVAILABLE', 'orders are paused while state is rebuilt', undefined, 2);
  const bodyHash = sha256(JSON.stringify([input.streamId, input.productId, input.quantity]));
  const orderId = `o_${randomBytes(12).toString('base64url')}`;
  const now = Date.now();
  const ttlMs = deps.config.orders.ttlSeconds * 1000;
  const reply = await orderScripts(deps.redis).lgPlaceOrder(
    deps.config.redis.prefix, input.viewerId, input.streamId, input.productId, input.quantity, bodyHash, orderId, now, ttlMs,
    deps.config.orders.idempotencyTtlSeconds, idemKeyHash(input.idempotencyKey), input.idempotencyKey, `evt_${randomBytes(12).toString('base64url')}`,
    new Date(now).toISOString(), new Date(now + ttlMs).toISOString(),
  );
  const [outcome, detail] = reply;
  if (outcome === 'REPLAY') return { order: await settledReplay(deps, detail), replay: true };
  if (outcome === 'UNAVAILABLE') throw new DomainError('UNAVAILABLE', 'orders are paused while state is rebuilt', undefined, 2);
  if (outcome !== 'OK') {
    deps.metrics.ordersRefused.inc({ code: outcome });
    throw refusal(outcome as ErrorCode, detail);
  }
  const order = orderOfReply(reply);
  try {
    await publishTransitions(deps, [{ orderId, type: 'order.placed', order }]);
  } catch (err) {
    deps.logger.warn({ err: (err as Error).message, orderId }, 'order.placed not acknowledged; releasing the reservation');
    await releaseReservation(deps, orderId, 'cancelled', idemKeyHash(input.idempotencyKey)).catch(() => undefined);
    throw new DomainError('UNAVAILABLE', 'the order could not be recorded; nothing was reserved, please retry', undefined, 1);
  }
  deps.metrics.ordersPlaced.inc();
  return { order, replay: false };
}

function refusal(code: ErrorCode, detail: string | undefined): DomainError {
  switch (code) {
    case 'IDEMPOTENCY_KEY_REUSED': return new DomainError(code, 'this Idempotency-Key was used for a different order');
    case 'NOT_ON_SALE': return new DomainError(code, detail === 'stream' ? 'the stream is not live' : 'this product is not on sale in this stream');
    case 'PURCHASE_LIMIT': return new DomainError(code, `over the per-buyer limit for this product (${detail} more allowed)`, { remainingForBuyer: Number(detail) });
    case 'OUT_OF_STOCK': return new DomainError(code, 'sold out', { remaining: Number(detail) });
    default: return new DomainError('INTERNAL', 'unexpected order script answer');
  }
}

/**
 * A replayed key answers what the original request answers: it waits while the original's order.placed is
 * still unacknowledged, then gives the order, or 503 if the original was cancelled because Kafka refused it.
 */
async function settledReplay(deps: Deps, orderId: string): Promise<OrderSnapshot> {
  for (let i = 0; i < 250; i++) {
    // state and outbox in one snapshot (MULTI): read apart, a cancel landing between them looked like an ack
    const [[, h], [, waiting]] = (await deps.redis.multi()
      .hgetall(deps.key('order', orderId))
      .zscore(deps.key('outbox'), `${orderId}|order.placed`)
      .exec()) as [[unknown, Record<string, string>], [unknown, string | null]];
    if (!h?.orderId || h.status === 'cancelled') break;
    if (waiting === null) return fromHash(h);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new DomainError('UNAVAILABLE', 'the original order with this key was not recorded; please retry', undefined, 1);
}
