/**
 * CPU per provider notification and per bill row, measured with process.cpuUsage (user+system), as ratios
 * against livegive's own HMAC check in the same run, and bill parsing at 1x, 10x and 100x rows.
 *   npx tsx scripts/measure/payments-verify.ts [--n 2000] [--rows 1000]
 */
import { verifyPaymentSignature, signPayment } from '../../src/orders/payment-signature';
import { verifyWechatSignature, decryptResource } from '../../src/payments/wechatpay.verify';
import { parseAlipayForm, verifyAlipaySignature } from '../../src/payments/alipay.verify';
import { parseWechatBill } from '../../src/payments/bills/wechatpay-bill';
import { parseAlipayBill } from '../../src/payments/bills/alipay-bill';
import { rsaPair, apiV3Key, wechatNotification, alipayForm, wechatBill, alipayBillZip, type TestBillRow } from '../../test/helpers/providers';

const arg = (name: string, d: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : d; };
const N = arg('n', 2000);
const ROWS = arg('rows', 1000);
const cpuUs = (f: () => void, times: number) => { const c0 = process.cpuUsage(); for (let i = 0; i < times; i++) f(); const c = process.cpuUsage(c0); return (c.user + c.system) / times; };

const secret = 'measure-secret-0123456789';
const raw = Buffer.from(JSON.stringify({ orderId: 'o_1', paymentId: 'p_1', amountFen: 4990, status: 'succeeded' }));
const header = signPayment(secret, raw);
const platform = rsaPair();
const key = apiV3Key();
const wx = wechatNotification({ key, privateKey: platform.privateKey, serial: 'S1', eventType: 'TRANSACTION.SUCCESS', payload: { mchid: '1900000001', out_trade_no: 'o_1', amount: { total: 4990 } } });
const wxHeaders = { serial: 'S1', signature: wx.headers['wechatpay-signature'], timestamp: wx.headers['wechatpay-timestamp'], nonce: wx.headers['wechatpay-nonce'] };
const keys = new Map([['S1', platform.publicKeyPem]]);
const alipay = rsaPair();
const form = Buffer.from(alipayForm({ app_id: '2021000117600000', seller_id: '2088102177000000', out_trade_no: 'o_1', trade_no: '2026', total_amount: '49.90', trade_status: 'TRADE_SUCCESS' }, alipay.privateKey), 'latin1');

const hmac = cpuUs(() => { if (!verifyPaymentSignature(secret, header, raw, 300).ok) throw new Error('hmac'); }, N);
const wechat = cpuUs(() => {
  if (!verifyWechatSignature(wxHeaders, Buffer.from(wx.body), keys, Date.now() / 1000).ok) throw new Error('wx');
  decryptResource(key, JSON.parse(wx.body).resource);
}, N);
const ali = cpuUs(() => { const p = parseAlipayForm(form)!; if (!verifyAlipaySignature(p, alipay.publicKeyPem).ok) throw new Error('ali'); }, N);
console.log(`notifications (n=${N}): HMAC ${hmac.toFixed(1)} µs (x1.00), WeChat v3 verify+decrypt ${wechat.toFixed(1)} µs (x${(wechat / hmac).toFixed(2)}), Alipay parse+RSA2 ${ali.toFixed(1)} µs (x${(ali / hmac).toFixed(2)})`);

const rows = (n: number): TestBillRow[] => Array.from({ length: n }, (_, i) => ({ kind: 'payment', orderId: `o_${i}`, ref: `42${i}`, fen: 4990, feeFen: 30, time: '2026-12-01 10:00:00' }));
for (const scale of [1, 10, 100]) {
  const r = rows(ROWS * scale);
  const csv = wechatBill('1900000001', 'wx1', r);
  const zip = alipayBillZip('2088102177000000', '2026-12-01', r);
  const w = cpuUs(() => parseWechatBill(csv), 1) / r.length;
  const a = cpuUs(() => parseAlipayBill(zip), 1) / r.length;
  console.log(`bill of ${r.length} rows (x${scale}): WeChat CSV ${w.toFixed(2)} µs/row, Alipay zip ${a.toFixed(2)} µs/row`);
}
