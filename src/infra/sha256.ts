import * as crypto from 'node:crypto';

/**
 * SHA-256 in one call: crypto.hash (Node 20.12+) makes no Hash object a digest, about twice as fast for the short
 * inputs the ledger hashes (an entry's canonical bytes, a Merkle node's 65 bytes); createHash where it is missing.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string | Buffer, encoding: 'hex' | 'buffer') => string | Buffer }).hash;

export const sha256 = (data: Buffer): Buffer => (oneShot ? oneShot('sha256', data, 'buffer') as Buffer : crypto.createHash('sha256').update(data).digest());
export const sha256Hex = (data: string): string => (oneShot ? oneShot('sha256', data, 'hex') as string : crypto.createHash('sha256').update(data).digest('hex'));
