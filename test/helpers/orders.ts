import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { signPayment } from '../../src/orders/payment-signature';
import { bearer } from './app';
import { PAYMENT_SECRET } from './env';

export const newKey = () => randomBytes(8).toString('hex');

export function order(url: string, token: string, body: Record<string, unknown>, key: string | null = newKey()) {
  const r = request(url).post('/api/v1/orders').set(bearer(token));
  if (key !== null) r.set('Idempotency-Key', key);
  return r.send(body);
}

/** Sends a payment notification signed the way the provider signs it (or with a given header). */
export function pay(url: string, body: Record<string, unknown>, opts: { secret?: string; t?: number; header?: string | null } = {}) {
  const raw = JSON.stringify(body);
  const r = request(url).post('/api/v1/payments/notify').set('Content-Type', 'application/json');
  const header = opts.header === undefined ? signPayment(opts.secret ?? PAYMENT_SECRET, raw, opts.t) : opts.header;
  if (header !== null) r.set('Livegive-Signature', header);
  return r.send(raw);
}
