import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DomainError } from '../infra/errors';

/** A secret sealed with AES-256-GCM: "v1.<iv>.<tag>.<ciphertext>", each part base64url. */
export type Sealed = string;

/** The 32-byte key from LIVEGIVE_SECRETS_KEY (64 hex digits or base64); refuses to work without one. */
export function secretsKey(configured: string): Buffer {
  if (!configured) throw new DomainError('UNAVAILABLE', 'merchant secrets cannot be stored: LIVEGIVE_SECRETS_KEY is not configured');
  return /^[0-9a-fA-F]{64}$/.test(configured) ? Buffer.from(configured, 'hex') : Buffer.from(configured, 'base64');
}

/** Encrypts a secret for storage; `context` (the merchant's id) is bound as associated data, so a sealed value cannot be moved to another merchant. */
export function seal(key: Buffer, plain: string, context: string): Sealed {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context));
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return ['v1', iv, c.getAuthTag(), body].map((x) => (typeof x === 'string' ? x : x.toString('base64url'))).join('.');
}

/** Decrypts a stored secret; throws if it was altered, moved to another merchant or sealed with another key. */
export function unseal(key: Buffer, sealed: Sealed, context: string): string {
  const [v, iv, tag, body] = sealed.split('.');
  if (v !== 'v1' || !iv || !tag || body === undefined) throw new Error('not a sealed secret');
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(context));
  d.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]).toString('utf8');
}
