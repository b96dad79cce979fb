import { randomInt, randomUUID } from 'node:crypto';
import { signPayment } from '../orders';
import { ApiError, DemoClient } from './demo-client';
import type { DemoWorld } from './seed-demo';

export interface AudienceStats { placed: number; paid: number; unpaid: number; cancelled: number; refused: Record<string, number>; errors: number; inFlight: number }

export interface Audience { stats: AudienceStats; stop(): Promise<void> }

interface Placed { id: string; totalFen: number }

/**
 * A simulated audience at a steady rate (orders per second): each buyer places an order for a pinned
 * product with an Idempotency-Key and, nine times in ten, the payment provider confirms it with a signed
 * notification; of the rest, half are cancelled by the buyer and half expire unpaid (each viewer holds at most
 * LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER unpaid orders; a refusal shows as OPEN_ORDERS_LIMIT). Only the public HTTP API is used.
 */
export function runAudience(api: DemoClient, world: DemoWorld, opts: { rate: number; paymentSecret: string; maxInFlight?: number }): Audience {
  const stats: AudienceStats = { placed: 0, paid: 0, unpaid: 0, cancelled: 0, refused: {}, errors: 0, inFlight: 0 };
  const maxInFlight = opts.maxInFlight ?? Math.max(20, opts.rate * 2);
  let pausedUntil = 0;
  const pending = new Set<Promise<void>>();

  const buyOne = async () => {
    const viewer = world.viewers[randomInt(world.viewers.length)];
    const product = world.products[randomInt(world.products.length)];
    try {
      const order = await api.call<Placed>('POST', '/api/v1/orders', {
        token: viewer.token, headers: { 'Idempotency-Key': randomUUID() }, body: { streamId: world.streamId, productId: product.id, quantity: 1 + randomInt(3) },
      });
      stats.placed++;
      if (randomInt(10) === 0) {
        // half of those who do not pay change their mind and cancel (stock back at once); the rest let it expire
        if (randomInt(2) === 0) { await api.call('POST', `/api/v1/orders/${order.id}/cancel`, { token: viewer.token }); stats.cancelled++; } else stats.unpaid++;
        return;
      }
      const raw = JSON.stringify({ orderId: order.id, paymentId: `demo-${randomUUID()}`, amountFen: order.totalFen, status: 'succeeded' });
      await api.call('POST', '/api/v1/payments/notify', { rawBody: raw, headers: { 'Livegive-Signature': signPayment(opts.paymentSecret, raw) } });
      stats.paid++;
    } catch (err) {
      if (err instanceof ApiError && err.status < 500) {
        stats.refused[err.code] = (stats.refused[err.code] ?? 0) + 1;
        if (err.status === 429) pausedUntil = Date.now() + (err.retryAfterSeconds ?? 1) * 1000;
      } else stats.errors++;
    }
  };

  // a fixed schedule (not "wait, then send") so the rate holds even when answers are slow
  const started = Date.now();
  let sent = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - started) / 1000) * opts.rate) - sent;
    for (let i = 0; i < due; i++) {
      sent++;
      if (Date.now() < pausedUntil || pending.size >= maxInFlight) continue; // shed load rather than queue without bound
      const p = buyOne().finally(() => { pending.delete(p); stats.inFlight = pending.size; });
      pending.add(p);
      stats.inFlight = pending.size;
    }
  }, 20);

  return {
    stats,
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
    },
  };
}

/** One line of progress for people watching the demo. */
export function describeStats(s: AudienceStats): string {
  const refused = Object.entries(s.refused).map(([k, v]) => `${k}=${v}`).join(' ');
  return `placed ${s.placed}, paid ${s.paid}, cancelled ${s.cancelled}, left unpaid ${s.unpaid}${refused ? `, refused ${refused}` : ''}${s.errors ? `, errors ${s.errors}` : ''}`;
}
