import { createHmac } from 'node:crypto';
import { rsaPair, apiV3Key, wechatNotification, alipayForm } from '../helpers/providers';
import { verifyWechatSignature, decryptResource } from '../../src/payments/wechatpay.verify';
import { parseAlipayForm, verifyAlipaySignature, alipayStringToSign } from '../../src/payments/alipay.verify';
import { yuanToFen, fenToYuan } from '../../src/payments/yuan';
import { seal, unseal } from '../../src/payments/secrets';
import { verifyPaymentSignature } from '../../src/orders/payment-signature';

describe('yuan to fen, by string', () => {
  it('when yuan has exactly two decimals, then it becomes exact fen', () => {
    expect(['0.01', '12.30', '49.90', '-0.05', '1234567890.99'].map(yuanToFen)).toEqual([1, 1230, 4990, -5, 123456789099]);
    expect(fenToYuan(4990)).toBe('49.90');
    expect(fenToYuan(-5)).toBe('-0.05');
  });
  it('when yuan is written any other way, then it is refused', () => {
    for (const bad of ['12.3', '1e2', '12', '012.30', ' 12.30', '12.300', '0x10', '', '1,000.00', '12.30 ', 'NaN', '+1.00']) expect(yuanToFen(bad)).toBeNull();
  });
});

describe('WeChat Pay v3 verification', () => {
  const platform = rsaPair();
  const other = rsaPair();
  const key = apiV3Key();
  const keys = new Map([['PUB_KEY_ID_0114', platform.publicKeyPem]]);
  const now = Math.floor(Date.now() / 1000);
  const build = (o: Partial<Parameters<typeof wechatNotification>[0]> = {}) => wechatNotification({ key, privateKey: platform.privateKey, serial: 'PUB_KEY_ID_0114', eventType: 'TRANSACTION.SUCCESS', payload: { out_trade_no: 'o_1' }, ts: now, ...o });
  const headers = (h: Record<string, string>) => ({ serial: h['wechatpay-serial'], signature: h['wechatpay-signature'], timestamp: h['wechatpay-timestamp'], nonce: h['wechatpay-nonce'], signatureType: h['wechatpay-signature-type'] });

  it('when the platform signed it, then it verifies and the resource decrypts to the payload', () => {
    const n = build();
    expect(verifyWechatSignature(headers(n.headers), Buffer.from(n.body), keys, now)).toEqual({ ok: true });
    expect(JSON.parse(decryptResource(key, JSON.parse(n.body).resource))).toEqual({ out_trade_no: 'o_1' });
  });
  it('when the signature, serial, time or body is wrong, then it is refused with the reason', () => {
    const n = build();
    const h = headers(n.headers);
    const probe = build({ privateKey: other.privateKey });
    expect(verifyWechatSignature(headers(probe.headers), Buffer.from(probe.body), keys, now)).toEqual({ ok: false, reason: 'signature does not verify' });
    expect(verifyWechatSignature({ ...h, serial: 'UNKNOWN' }, Buffer.from(n.body), keys, now)).toEqual({ ok: false, reason: 'no platform key for this serial' });
    expect(verifyWechatSignature(h, Buffer.from(n.body), keys, now + 300)).toEqual({ ok: false, reason: 'timestamp outside the window' });
    expect(verifyWechatSignature(h, Buffer.from(n.body), keys, now - 300)).toEqual({ ok: false, reason: 'timestamp outside the window' });
    expect(verifyWechatSignature(h, Buffer.from(n.body), keys, now + 299).ok).toBe(true);
    expect(verifyWechatSignature(h, Buffer.from(`${n.body} `), keys, now).ok).toBe(false);
    expect(verifyWechatSignature({ ...h, signature: undefined }, Buffer.from(n.body), keys, now)).toEqual({ ok: false, reason: 'signature headers missing' });
    expect(verifyWechatSignature({ ...h, signatureType: 'WECHATPAY2-SM2-WITH-SM3' }, Buffer.from(n.body), keys, now).ok).toBe(false);
  });
  it('when the ciphertext was altered or the key is another, then it does not decrypt', () => {
    const r = JSON.parse(build().body).resource;
    const bytes = Buffer.from(r.ciphertext, 'base64');
    bytes[0] ^= 1;
    expect(() => decryptResource(key, { ...r, ciphertext: bytes.toString('base64') })).toThrow();
    expect(() => decryptResource(apiV3Key(), r)).toThrow();
    expect(() => decryptResource(key, { ...r, associated_data: 'other' })).toThrow();
  });
});

describe('Alipay RSA2 verification', () => {
  const alipay = rsaPair();
  const params = { app_id: '2021000117600000', seller_id: '2088102177000000', out_trade_no: 'o_1', trade_no: '2026120222001', total_amount: '49.90', trade_status: 'TRADE_SUCCESS', subject: '赣南脐橙 5 kg', refund_fee: '' };

  it('when Alipay signed a UTF-8 or a GBK form, then it parses to the same text and verifies', () => {
    for (const charset of ['utf-8', 'gbk']) {
      const p = parseAlipayForm(Buffer.from(alipayForm(params, alipay.privateKey, charset), 'latin1'))!;
      expect(p.subject).toBe('赣南脐橙 5 kg');
      expect(verifyAlipaySignature(p, alipay.publicKeyPem)).toEqual({ ok: true });
    }
  });
  it('when the string to sign is built, then sign, sign_type and empty values are left out and keys are sorted', () => {
    expect(alipayStringToSign({ b: '2', a: '1', sign: 'x', sign_type: 'RSA2', c: '' })).toBe('a=1&b=2');
  });
  it('when a value was changed, the key is another, or the form is odd, then it is refused', () => {
    const p = parseAlipayForm(Buffer.from(alipayForm(params, alipay.privateKey), 'latin1'))!;
    expect(verifyAlipaySignature({ ...p, total_amount: '0.01' }, alipay.publicKeyPem).ok).toBe(false);
    expect(verifyAlipaySignature(p, rsaPair().publicKeyPem).ok).toBe(false);
    expect(verifyAlipaySignature({ ...p, sign_type: 'RSA' }, alipay.publicKeyPem).ok).toBe(false);
    expect(parseAlipayForm(Buffer.from('a=1&a=2'))).toBeNull();
    expect(parseAlipayForm(Buffer.from('charset=big5&a=1'))).toBeNull();
  });
});

describe('secrets at rest and livegive HMAC rotation', () => {
  it('when a secret is sealed, then only the same key and merchant open it', () => {
    const k = Buffer.alloc(32, 7);
    const s = seal(k, 'the-apiv3-key', 'wechatpay:1900000001');
    expect(s).not.toContain('the-apiv3-key');
    expect(unseal(k, s, 'wechatpay:1900000001')).toBe('the-apiv3-key');
    expect(() => unseal(k, s, 'wechatpay:1900000002')).toThrow();
    expect(() => unseal(Buffer.alloc(32, 8), s, 'wechatpay:1900000001')).toThrow();
  });
  it('when a header carries several v1 values, then one matching value is enough and none is refused', () => {
    const body = Buffer.from('{"a":1}');
    const t = Math.floor(Date.now() / 1000);
    const mac = (secret: string) => createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
    const secret = 'current-secret-0123456789';
    expect(verifyPaymentSignature(secret, `t=${t},v1=${mac('old-secret-0123456789')},v1=${mac(secret)}`, body, 300)).toEqual({ ok: true });
    expect(verifyPaymentSignature(secret, `t=${t},v1=${mac('old-secret-0123456789')},v1=${mac('other-0123456789')}`, body, 300)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyPaymentSignature(secret, `t=${t},t=${t},v1=${mac(secret)}`, body, 300)).toEqual({ ok: false, reason: 'malformed' });
  });
});
