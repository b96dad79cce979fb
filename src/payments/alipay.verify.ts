import { createVerify } from 'node:crypto';
import querystring from 'node:querystring';
import iconv from 'iconv-lite';

/**
 * Alipay asynchronous notifications (异步通知), checked as alipay-sdk-java's AlipaySignature.rsaCheckV1 does:
 * the form's parameters without `sign` and `sign_type` and without empty values, URL-decoded, sorted by
 * key and joined "k=v&k=v", in the form's charset, verified with SHA256withRSA (RSA2) and Alipay's public
 * key. Pure: no I/O.
 */

const charsets = new Set(['utf-8', 'utf8', 'gbk', 'gb2312', 'gb18030']);

/** Decodes an x-www-form-urlencoded body in the charset it names itself (UTF-8 unless it says GBK); null if it is not a clean form. */
export function parseAlipayForm(raw: Buffer): Record<string, string> | null {
  const pairs: [Buffer, Buffer][] = [];
  for (const part of raw.toString('latin1').split('&')) {
    if (!part) continue;
    const i = part.indexOf('=');
    if (i <= 0) return null;
    const bytes = (s: string) => (querystring as unknown as { unescapeBuffer(s: string): Buffer }).unescapeBuffer(s.replace(/\+/g, ' '));
    pairs.push([bytes(part.slice(0, i)), bytes(part.slice(i + 1))]);
  }
  const charsetPair = pairs.find(([k]) => k.toString('latin1') === 'charset');
  const charset = (charsetPair?.[1].toString('latin1') ?? 'utf-8').toLowerCase();
  if (!charsets.has(charset)) return null;
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of pairs) {
    const key = iconv.decode(k, charset);
    if (key in out || !/^[a-z_]{1,40}$/.test(key)) return null; // a repeated or odd key is not Alipay's form
    out[key] = iconv.decode(v, charset);
  }
  return out;
}

/** The string Alipay signed: every parameter but sign/sign_type and empty ones, sorted by key, "k=v" joined by "&". */
export function alipayStringToSign(params: Record<string, string>): string {
  return Object.keys(params).filter((k) => k !== 'sign' && k !== 'sign_type' && params[k] !== '').sort().map((k) => `${k}=${params[k]}`).join('&');
}

export function verifyAlipaySignature(params: Record<string, string>, publicKeyPem: string): { ok: true } | { ok: false; reason: string } {
  if (!params.sign) return { ok: false, reason: 'sign missing' };
  if ((params.sign_type ?? 'RSA2') !== 'RSA2') return { ok: false, reason: 'only RSA2 signatures are accepted' };
  const v = createVerify('RSA-SHA256');
  v.update(iconv.encode(alipayStringToSign(params), (params.charset ?? 'utf-8').toLowerCase()));
  try {
    return v.verify(publicKeyPem, params.sign, 'base64') ? { ok: true } : { ok: false, reason: 'signature does not verify' };
  } catch {
    return { ok: false, reason: 'signature malformed' };
  }
}

/** Alipay's times are Beijing wall-clock text ("2026-12-02 10:00:00"). */
export function beijingTime(s: string | undefined): Date | null {
  if (!s || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(s)) return null;
  const d = new Date(`${s.replace(' ', 'T')}+08:00`);
  return Number.isNaN(d.getTime()) ? null : d;
}
