import { createHmac, timingSafeEqual } from 'node:crypto';

/** The Livegive-Signature header for a raw body: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">. */
export function signPayment(secret: string, rawBody: string | Buffer, t = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');
  return `t=${t},v1=${mac}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/** Checks the header against the raw body and the clock window; constant-time comparison. */
export function verifyPaymentSignature(secret: string, header: string | undefined, rawBody: Buffer | undefined, toleranceSeconds: number, nowSeconds = Date.now() / 1000): SignatureCheck {
  if (!header || !rawBody) return { ok: false, reason: 'missing' };
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!/^\d{1,12}$/.test(parts.t ?? '') || !/^[0-9a-f]{64}$/.test(parts.v1 ?? '')) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signPayment(secret, rawBody, t).split('v1=')[1], 'hex');
  return timingSafeEqual(expected, Buffer.from(parts.v1, 'hex')) ? { ok: true } : { ok: false, reason: 'mismatch' };
}
