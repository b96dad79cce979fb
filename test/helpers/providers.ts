import { createCipheriv, createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import iconv from 'iconv-lite';
import { zipSync } from 'fflate';
import { alipayStringToSign } from '../../src/payments/alipay.verify';
import { fenToYuan } from '../../src/payments/yuan';

/** An RSA-2048 key pair generated for the test; nothing real. */
export function rsaPair(): { privateKey: KeyObject; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** A 32-character APIv3 key, as WeChat Pay merchants set one. */
export const apiV3Key = () => randomBytes(24).toString('base64url').slice(0, 32);

/**
 * A WeChat Pay API v3 notification built as the platform builds it (and the SDKs check it): the payload
 * AEAD_AES_256_GCM-encrypted with the APIv3 key (tag appended, base64), the body signed SHA256withRSA over
 * "<ts>\n<nonce>\n<body>\n" by the platform key whose serial goes in Wechatpay-Serial.
 */
export function wechatNotification(o: { key: string; privateKey: KeyObject; serial: string; eventType: string; payload: object; ts?: number; nonce?: string; id?: string }) {
  const iv = randomBytes(9).toString('base64url').slice(0, 12);
  const ad = o.eventType.startsWith('REFUND') ? 'refund' : 'transaction';
  const c = createCipheriv('aes-256-gcm', Buffer.from(o.key, 'utf8'), Buffer.from(iv, 'utf8')).setAAD(Buffer.from(ad));
  const ciphertext = Buffer.concat([c.update(JSON.stringify(o.payload), 'utf8'), c.final(), c.getAuthTag()]).toString('base64');
  const body = JSON.stringify({
    id: o.id ?? `EV-${randomBytes(8).toString('hex')}`, create_time: new Date().toISOString(), resource_type: 'encrypt-resource', event_type: o.eventType,
    summary: '支付成功', resource: { original_type: ad, algorithm: 'AEAD_AES_256_GCM', ciphertext, associated_data: ad, nonce: iv },
  });
  const ts = String(o.ts ?? Math.floor(Date.now() / 1000));
  const nonce = o.nonce ?? randomBytes(16).toString('hex');
  const signature = createSign('RSA-SHA256').update(`${ts}\n${nonce}\n${body}\n`).sign(o.privateKey, 'base64');
  return {
    body,
    headers: { 'content-type': 'application/json', 'wechatpay-serial': o.serial, 'wechatpay-signature': signature, 'wechatpay-timestamp': ts, 'wechatpay-nonce': nonce, 'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048' },
  };
}

/** An Alipay notification form, signed as Alipay signs it (RSA2 over the sorted k=v string) and URL-encoded in its charset. */
export function alipayForm(params: Record<string, string>, privateKey: KeyObject, charset = 'utf-8'): string {
  const all = { notify_type: 'trade_status_sync', notify_id: randomBytes(8).toString('hex'), charset, version: '1.0', sign_type: 'RSA2', ...params };
  const sign = createSign('RSA-SHA256').update(iconv.encode(alipayStringToSign(all), charset)).sign(privateKey, 'base64');
  const enc = (s: string) => [...iconv.encode(s, charset)].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
  return Object.entries({ ...all, sign }).map(([k, v]) => `${k}=${enc(v)}`).join('&');
}

export interface TestBillRow { kind: 'payment' | 'refund'; orderId: string; ref: string; fen: number; feeFen?: number; refundId?: string; time: string }

/** A WeChat Pay trade bill as the platform writes it: backtick-prefixed fields, yuan, two summary lines. */
export function wechatBill(mchid: string, appid: string, rows: TestBillRow[], tamper?: (summary: string[]) => void): Buffer {
  const q = (v: string) => `\`${v}`;
  const head = '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
  const lines = [head];
  const t = { settle: 0, refund: 0, fee: 0 };
  for (const r of rows) {
    const fee = r.feeFen ?? 0;
    t.fee += fee;
    if (r.kind === 'payment') t.settle += r.fen; else t.refund += r.fen;
    const pay = r.kind === 'payment';
    lines.push([r.time, appid, mchid, '0', '', r.ref, r.orderId, 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', 'JSAPI', pay ? 'SUCCESS' : 'REFUND', 'OTHERS', 'CNY',
      fenToYuan(pay ? r.fen : 0), '0.00', pay ? '0' : `5030${r.ref}`, pay ? '0' : r.refundId ?? '', fenToYuan(pay ? 0 : r.fen), '0.00', pay ? '' : 'ORIGINAL', pay ? '' : 'SUCCESS',
      '赣南脐橙', '', fenToYuan(fee), '0.60%', fenToYuan(pay ? r.fen : 0), fenToYuan(pay ? 0 : r.fen), ''].map(q).join(','));
  }
  const summary = [String(rows.length), fenToYuan(t.settle), fenToYuan(t.refund), '0.00', fenToYuan(t.fee), fenToYuan(t.settle), fenToYuan(t.refund)];
  tamper?.(summary);
  lines.push('总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额', summary.map(q).join(','));
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8');
}

/** An Alipay trade bill: a zip of two GBK CSVs (detail and summary), `#` preamble and footer, id cells ending with a tab. */
export function alipayBillZip(pid: string, day: string, rows: TestBillRow[]): Buffer {
  const head = '支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注';
  const lines = ['#支付宝业务明细查询', `#账号：[${pid}]`, `#起始日期：[${day} 00:00:00]   终止日期：[${day} 23:59:59]`, '#---------------------------------业务明细列表----------------------------------', head];
  for (const r of rows) {
    const pay = r.kind === 'payment';
    const amount = fenToYuan(pay ? r.fen : -r.fen);
    lines.push([`${r.ref}\t`, `${r.orderId}\t`, pay ? '交易' : '退款', '赣南脐橙', r.time, r.time, '', '', '', '', 'ab***@163.com', amount, amount, '0.00', '0.00', '0.00', '0.00', '0.00', '', '0.00', '0.00',
      pay ? '' : `${r.refundId ?? ''}\t`, fenToYuan(r.feeFen ?? 0), '0.00', ''].join(','));
  }
  const sum = (k: string) => rows.filter((r) => r.kind === k);
  const yuan = (k: string) => fenToYuan(sum(k).reduce((n, r) => n + r.fen, 0));
  lines.push('#-----------------------------------业务明细列表结束------------------------------------', `#交易合计：${sum('payment').length}笔，共${yuan('payment')}元`, `#退款合计：${sum('refund').length}笔，共${yuan('refund')}元`, `#导出时间：[${day} 10:00:00]`);
  const detail = iconv.encode(lines.join('\r\n'), 'gbk');
  const summary = iconv.encode(['#支付宝业务汇总查询', `#账号：[${pid}]`, '门店编号,门店名称,交易订单总笔数', `合计,,${rows.length}`].join('\r\n'), 'gbk');
  return Buffer.from(zipSync({ [`${pid}_${day.replace(/-/g, '')}_业务明细.csv`]: detail, [`${pid}_${day.replace(/-/g, '')}_业务明细(汇总).csv`]: summary }));
}
