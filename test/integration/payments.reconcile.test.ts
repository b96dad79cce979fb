import request from 'supertest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startService, TestService, admin } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { order } from '../helpers/orders';
import { waitFor } from '../helpers/env';
import { readTopic } from '../helpers/kafka';
import { rsaPair, apiV3Key, wechatNotification, alipayForm, wechatBill, alipayBillZip, type TestBillRow } from '../helpers/providers';
import { fenToYuan } from '../../src/payments/yuan';

const MCHID = '1900000209';
const APPID = 'wx7777777777777777';
const ALI_APP = '2021000117600002';
const PID = '2088102177000002';
const ROOT = path.resolve(__dirname, '../..');

/** A generated day of provider payments reconciled against livegive, by the operator API and by the CLI. */
describe('daily reconciliation', () => {
  let svc: TestService;
  let w: World;
  const platform = rsaPair();
  const alipay = rsaPair();
  const V3 = apiV3Key();
  const now = new Date(Date.now() + 8 * 3600_000).toISOString();
  const day = now.slice(0, 10);
  const at = (h: number) => `${day} ${String(h).padStart(2, '0')}:00:00`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lg-recon-'));

  const place = async (quantity = 1) => {
    const v = await newViewer(svc.url, '周九');
    return (await order(svc.url, v.token, { streamId: w.stream.id, productId: w.product.id, quantity }).expect(201)).body as { id: string; totalFen: number };
  };
  const wxPay = (o: { id: string; totalFen: number }, ref: string) => {
    const n = wechatNotification({ key: V3, privateKey: platform.privateKey, serial: 'PUB_A', eventType: 'TRANSACTION.SUCCESS', payload: {
      mchid: MCHID, appid: APPID, out_trade_no: o.id, transaction_id: ref, trade_type: 'JSAPI', trade_state: 'SUCCESS', success_time: `${now.slice(0, 19)}+08:00`,
      amount: { total: o.totalFen, payer_total: o.totalFen, currency: 'CNY' } } });
    return request(svc.url).post(`/api/v1/payments/wechatpay/${MCHID}/notify`).set(n.headers).send(n.body).expect(204);
  };
  const reconcile = (bill: Buffer, q: string, type = 'text/csv') => request(svc.url).post(`/api/v1/reconciliations?${q}`).set(admin).set('content-type', type).send(bill);
  const allocations = async (orderId: string) => svc.deps.db.collection('ledger').countDocuments({ orderId, kind: 'allocation' });
  const cli = (args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin/livegive.js'), 'reconcile', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...svc.env, LIVEGIVE_FROM_SOURCE: '1', LIVEGIVE_LOG_LEVEL: 'silent' }, timeout: 120_000 });

  beforeAll(async () => {
    svc = await startService('all', { LIVEGIVE_SECRETS_KEY: randomBytes(32).toString('hex') });
    w = await seedWorld(svc.url, { priceFen: 4990, perUnitFen: 200, stock: 1000 });
    await request(svc.url).put(`/api/v1/hosts/${w.host.id}/merchants/wechatpay`).set(admin).send({ mchid: MCHID, appid: APPID, apiV3Key: V3, platformKeys: [{ serial: 'PUB_A', publicKeyPem: platform.publicKeyPem }] }).expect(200);
    await request(svc.url).put(`/api/v1/hosts/${w.host.id}/merchants/alipay`).set(admin).send({ appId: ALI_APP, sellerId: PID, alipayPublicKeyPem: alipay.publicKeyPem }).expect(200);
  });
  afterAll(async () => { await svc?.stop(); });

  it('when a WeChat day has a lost notification, an amount mismatch, an unnotified refund and an order unknown to WeChat, then each is reported once and the lost payment applied once', async () => {
    const [ok, lost, off, unknown, refunded] = [await place(), await place(), await place(), await place(), await place(2)];
    for (const [o, ref] of [[ok, '4201'], [off, '4203'], [unknown, '4204'], [refunded, '4205']] as const) await wxPay(o, ref);
    const rows: TestBillRow[] = [
      { kind: 'payment', orderId: ok.id, ref: '4201', fen: ok.totalFen, feeFen: 30, time: at(9) },
      { kind: 'payment', orderId: lost.id, ref: '4202', fen: lost.totalFen, feeFen: 30, time: at(10) },
      { kind: 'payment', orderId: off.id, ref: '4203', fen: off.totalFen + 1, feeFen: 30, time: at(11) },
      { kind: 'payment', orderId: refunded.id, ref: '4205', fen: refunded.totalFen, feeFen: 60, time: at(12) },
      { kind: 'refund', orderId: refunded.id, ref: '4205', fen: 4990, feeFen: -30, refundId: 'RF-LOST', time: at(13) },
    ];
    const bill = wechatBill(MCHID, APPID, rows);
    const expected = (action: string) => [
      ['amount_mismatch', off.id, off.totalFen, off.totalFen + 1, 'investigate'],
      ['paid_here_not_there', unknown.id, unknown.totalFen, 0, 'investigate'],
      ['paid_there_not_here', lost.id, 0, lost.totalFen, action],
      ['refund_mismatch', refunded.id, 0, 4990, 'investigate'],
    ].sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1])));
    const shape = (r: { differences: { kind: string; orderId: string; hereFen: number; thereFen: number; action: string }[] }) => r.differences.map((d) => [d.kind, d.orderId, d.hereFen, d.thereFen, d.action]);

    const first = (await reconcile(bill, `provider=wechatpay&date=${day}`).expect(200)).body;
    expect(shape(first)).toEqual(expected('applied'));
    expect(first).toMatchObject({ provider: 'wechatpay', date: day, balanced: false, summary: { paymentsThere: 4, paidThereFen: 4990 * 5 + 1, refundedThereFen: 4990, feeFen: 120, unresolved: 3 } });
    expect((await request(svc.url).get(`/api/v1/orders/${lost.id}`).set(admin).expect(200)).body.status).toBe('paid');
    expect(await svc.deps.db.collection('provider_payments').findOne({ orderId: lost.id })).toMatchObject({ source: 'reconciliation', providerRef: '4202', amountFen: lost.totalFen });
    await waitFor(async () => (await allocations(lost.id)) === 1, 'the lost payment allocated');

    // the second run reports the same day the same way and changes nothing
    const second = (await reconcile(bill, `provider=wechatpay&date=${day}`).expect(200)).body;
    expect(shape(second)).toEqual(expected('already_applied'));
    const csv = await reconcile(bill, `provider=wechatpay&date=${day}&format=csv`).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.text.trim().split('\r\n')).toHaveLength(1 + 4 + 1);
    expect(csv.text).toContain('NOT balanced');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await allocations(lost.id)).toBe(1);
    const paidEvents = (await readTopic(svc.deps.config.kafka.topics.orderEvents, (m) => m.filter((x) => x.value.includes(lost.id)).length >= 2, 10000)).map((m) => JSON.parse(m.value)).filter((e) => e.orderId === lost.id && e.type === 'order.paid');
    expect(new Set(paidEvents.map((e) => e.eventId)).size).toBe(1);
  }, 90_000);

  it('when a bill is broken, truncated, empty or of another merchant, then it is refused as BAD_BILL and nothing changes', async () => {
    const o = await place();
    const rows: TestBillRow[] = [{ kind: 'payment', orderId: o.id, ref: '4299', fen: o.totalFen, time: at(9) }];
    const before = await svc.deps.db.collection('provider_payments').countDocuments();
    const zip = alipayBillZip(PID, day, rows);
    const cases: [string, Buffer, string, string?][] = [
      ['broken summary', wechatBill(MCHID, APPID, rows, (s) => { s[1] = fenToYuan(o.totalFen + 100); }), 'wechatpay'],
      ['another merchant', wechatBill('1900000999', APPID, rows), 'wechatpay'],
      ['another merchant than asked', wechatBill(MCHID, APPID, rows), 'wechatpay', '&merchant=1900000999'],
      ['another day', wechatBill(MCHID, APPID, rows), 'wechatpay', '&date=2020-01-01'],
      ['empty bill', Buffer.alloc(0), 'wechatpay'],
      ['truncated zip', zip.subarray(0, zip.length - 30), 'alipay'],
      ['Alipay bill of another account', alipayBillZip('2088000000000999', day, rows), 'alipay'],
    ];
    for (const [what, file, provider, extra] of cases) {
      const r = await reconcile(file, `provider=${provider}${extra ?? ''}`, provider === 'alipay' ? 'application/zip' : 'text/csv');
      expect([what, r.status, r.body.error?.code]).toEqual([what, 422, 'BAD_BILL']);
    }
    expect(await svc.deps.db.collection('provider_payments').countDocuments()).toBe(before);
    expect((await request(svc.url).get(`/api/v1/orders/${o.id}`).set(admin).expect(200)).body.status).toBe('reserved');
    expect((await reconcile(wechatBill(MCHID, APPID, rows), 'provider=paypal').expect(422)).body.error.code).toBe('VALIDATION_FAILED');
  });

  it('when the CLI reconciles an Alipay zip with a lost notification, then it applies it once, prints the report and exits 0 as the day balances', async () => {
    const [paid, lost] = [await place(), await place()];
    const params = { app_id: ALI_APP, seller_id: PID, out_trade_no: paid.id, trade_no: '2026A1', total_amount: fenToYuan(paid.totalFen), trade_status: 'TRADE_SUCCESS', gmt_payment: now.slice(0, 19).replace('T', ' ') };
    await request(svc.url).post(`/api/v1/payments/alipay/${ALI_APP}/notify`).type('form').send(alipayForm(params, alipay.privateKey)).expect(200);
    const file = path.join(dir, 'alipay.zip');
    writeFileSync(file, alipayBillZip(PID, day, [
      { kind: 'payment', orderId: paid.id, ref: '2026A1', fen: paid.totalFen, feeFen: 30, time: at(9) },
      { kind: 'payment', orderId: lost.id, ref: '2026A2', fen: lost.totalFen, feeFen: 30, time: at(10) },
    ]));
    const first = cli(['--provider', 'alipay', '--bill', file, '--format', 'csv']);
    expect([first.status, first.stderr]).toEqual([0, '']);
    expect(first.stdout).toContain(`paid_there_not_here,${lost.id},2026A2,0,${lost.totalFen},applied`);
    expect(first.stdout).toContain(`# alipay ${day}: balanced`);
    const second = cli(['--provider', 'alipay', '--bill', file]);
    expect(second.status).toBe(0);
    expect(JSON.parse(second.stdout).differences).toEqual([expect.objectContaining({ orderId: lost.id, action: 'already_applied' })]);
    await waitFor(async () => (await allocations(lost.id)) === 1, 'the lost Alipay payment allocated');
    writeFileSync(path.join(dir, 'cut.zip'), (await import('node:fs')).readFileSync(file).subarray(0, 50));
    const bad = cli(['--provider', 'alipay', '--bill', path.join(dir, 'cut.zip')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/BAD_BILL/);
  }, 120_000);
});
