import { createDecipheriv, createVerify } from 'node:crypto';

/**
 * WeChat Pay API v3 notification checks, as the official SDKs make them (wechatpay-java, wechatpay-go):
 * SHA256withRSA over "<timestamp>\n<nonce>\n<body>\n" with the platform key the Wechatpay-Serial header
 * names, a timestamp within 300 s, then AEAD_AES_256_GCM decryption of the resource with the APIv3 key.
 * Pure: no I/O, keys passed in.
 */

export interface WechatHeaders { serial?: string; signature?: string; timestamp?: string; nonce?: string; signatureType?: string }
export type WechatCheck = { ok: true } | { ok: false; reason: string };

export const WECHAT_SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048';

export function verifyWechatSignature(h: WechatHeaders, rawBody: Buffer, keys: Map<string, string>, nowSeconds: number, toleranceSeconds = 300): WechatCheck {
  if (!h.serial || !h.signature || !h.timestamp || !h.nonce) return { ok: false, reason: 'signature headers missing' };
  if (h.signatureType && h.signatureType !== WECHAT_SIGNATURE_TYPE) return { ok: false, reason: `unsupported signature type ${h.signatureType.slice(0, 40)}` };
  if (!/^\d{1,12}$/.test(h.timestamp) || !/^[A-Za-z0-9+/]+={0,2}$/.test(h.signature) || h.nonce.length > 64) return { ok: false, reason: 'signature headers malformed' };
  // the SDKs refuse a timestamp 300 s or more away from now (either side)
  if (Math.abs(nowSeconds - Number(h.timestamp)) >= toleranceSeconds) return { ok: false, reason: 'timestamp outside the window' };
  const pem = keys.get(h.serial);
  if (!pem) return { ok: false, reason: 'no platform key for this serial' };
  const v = createVerify('RSA-SHA256');
  v.update(`${h.timestamp}\n${h.nonce}\n`);
  v.update(rawBody);
  v.update('\n');
  return v.verify(pem, h.signature, 'base64') ? { ok: true } : { ok: false, reason: 'signature does not verify' };
}

/** Decrypts a notification resource (ciphertext base64 with the 16-byte tag at its end); throws if it does not authenticate. */
export function decryptResource(apiV3Key: string, r: { ciphertext: string; nonce: string; associated_data?: string }): string {
  const data = Buffer.from(r.ciphertext, 'base64');
  if (data.length < 17) throw new Error('ciphertext too short');
  const d = createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(r.nonce, 'utf8'));
  d.setAAD(Buffer.from(r.associated_data ?? '', 'utf8'));
  d.setAuthTag(data.subarray(data.length - 16));
  return Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]).toString('utf8');
}
