import { createHmac, timingSafeEqual } from 'node:crypto';

/** The Livegive-Signature header for a raw body: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">. */
export function signPayment(secret: string, rawBody: string | Buffer, t = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');
  return `t=${t},v1=${mac}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/**
 * Checks the header against the raw body and the clock window; constant-time comparison. Several `v1=` values
 * may be present while the sender rotates its secret (as Stripe does): one that matches is enough.
 */
export function verifyPaymentSignature(secret: string, header: string | undefined, rawBody: Buffer | undefined, toleranceSeconds: number, nowSeconds = Date.now() / 1000): SignatureCheck {
  if (!header || !rawBody) return { ok: false, reason: 'missing' };
  const parts = header.split(',').map((p) => p.trim().split('=', 2) as [string, string]);
  const ts = parts.filter(([k]) => k === 't').map(([, v]) => v);
  const v1s = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
  if (ts.length !== 1 || !/^\d{1,12}$/.test(ts[0] ?? '') || v1s.length === 0 || v1s.length > 8 || !v1s.every((v) => /^[0-9a-f]{64}$/.test(v))) return { ok: false, reason: 'malformed' };
  const t = Number(ts[0]);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signPayment(secret, rawBody, t).split('v1=')[1], 'hex');
  // every value is compared, so the time taken does not tell which one matched
  const matches = v1s.map((v) => timingSafeEqual(expected, Buffer.from(v, 'hex')));
  return matches.includes(true) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
