import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { startService, TestService, admin, bearer } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { order } from '../helpers/orders';
import { waitFor, PAYMENT_SECRET } from '../helpers/env';
import { rsaPair, apiV3Key, wechatNotification, alipayForm } from '../helpers/providers';
import { signPayment } from '../../src/orders/payment-signature';
import { fenToYuan } from '../../src/payments/yuan';
import { stockKey as stockKeyOf } from '../helpers/hot-keys';

const MCHID = '1900000109';
const APPID = 'wx8888888888888888';
const ALI_APP = '2021000117600001';
const PID = '2088102177000001';

/** WeChat Pay v3 and Alipay notifications against the real stack, built as the providers' SDKs build them. */
describe('provider notifications', () => {
  let svc: TestService;
  let w: World;
  const platformA = rsaPair();
  const platformB = rsaPair();
  const alipay = rsaPair();
  const V3 = apiV3Key();
  const beijingNow = () => `${new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 19)}+08:00`;
  const beijingText = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');

  const place = async (quantity = 1, productId = w.product.id) => {
    const v = await newViewer(svc.url, '孙八');
    return (await order(svc.url, v.token, { streamId: w.stream.id, productId, quantity }).expect(201)).body as { id: string; totalFen: number; quantity: number };
  };
  const status = async (id: string) => (await request(svc.url).get(`/api/v1/orders/${id}`).set(admin).expect(200)).body;
  const txn = (o: { id: string; totalFen: number }, extra: Record<string, unknown> = {}) => ({
    mchid: MCHID, appid: APPID, out_trade_no: o.id, transaction_id: `4200${randomBytes(6).toString('hex')}`, trade_type: 'JSAPI', trade_state: 'SUCCESS',
    trade_state_desc: '支付成功', bank_type: 'OTHERS', success_time: beijingNow(), payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: o.totalFen, payer_total: o.totalFen, currency: 'CNY', payer_currency: 'CNY' }, ...extra,
  });
  const refundOf = (o: { id: string; totalFen: number }, outRefundNo: string, fen: number, st = 'SUCCESS') => ({
    mchid: MCHID, out_trade_no: o.id, transaction_id: '4200000000', out_refund_no: outRefundNo, refund_id: `5030${randomBytes(4).toString('hex')}`, refund_status: st,
    success_time: beijingNow(), user_received_account: '支付用户零钱', amount: { total: o.totalFen, refund: fen, payer_total: o.totalFen, payer_refund: fen },
  });
  const wx = (eventType: string, payload: object, o: Partial<Parameters<typeof wechatNotification>[0]> & { mchid?: string; drop?: string } = {}) => {
    const n = wechatNotification({ key: V3, privateKey: platformA.privateKey, serial: 'PUB_KEY_ID_A', eventType, payload, ...o });
    const headers: Record<string, string> = { ...n.headers };
    if (o.drop) delete headers[o.drop];
    return request(svc.url).post(`/api/v1/payments/wechatpay/${o.mchid ?? MCHID}/notify`).set(headers).send(n.body);
  };
  const ali = (params: Record<string, string>, o: { key?: typeof alipay.privateKey; charset?: string } = {}) => request(svc.url).post(`/api/v1/payments/alipay/${ALI_APP}/notify`)
    .set('content-type', `application/x-www-form-urlencoded; charset=${o.charset ?? 'utf-8'}`).send(alipayForm({ app_id: ALI_APP, seller_id: PID, ...params }, o.key ?? alipay.privateKey, o.charset));
  const ledger = (orderId: string) => svc.deps.db.collection<{ kind: string; amountFen: number }>('ledger').find({ orderId }).toArray();

  beforeAll(async () => {
    svc = await startService('all', { LIVEGIVE_SECRETS_KEY: randomBytes(32).toString('base64'), LIVEGIVE_ORDER_TTL_SECONDS: '8', LIVEGIVE_SWEEP_INTERVAL_MS: '100' });
    w = await seedWorld(svc.url, { priceFen: 4990, perUnitFen: 200, stock: 1000 });
  });
  afterAll(async () => { await svc?.stop(); });

  it('when the operator registers merchants, then secrets are stored sealed and never answered; bad bodies are refused', async () => {
    const put = (body: object) => request(svc.url).put(`/api/v1/hosts/${w.host.id}/merchants/wechatpay`).set(admin).send(body);
    const good = { mchid: MCHID, appid: APPID, apiV3Key: V3, platformKeys: [{ serial: 'PUB_KEY_ID_A', publicKeyPem: platformA.publicKeyPem }, { serial: 'PUB_KEY_ID_B', publicKeyPem: platformB.publicKeyPem }] };
    const r = await put(good).expect(200);
    expect(r.body).toEqual({ provider: 'wechatpay', hostId: w.host.id, mchid: MCHID, appid: APPID, serials: ['PUB_KEY_ID_A', 'PUB_KEY_ID_B'] });
    const stored = JSON.stringify(await svc.deps.db.collection('merchants').findOne({ _id: `wechatpay:${MCHID}` } as never));
    expect(stored).not.toContain(V3);
    expect((await put({ ...good, apiV3Key: V3.slice(1) }).expect(422)).body.error.code).toBe('VALIDATION_FAILED');
    expect((await put({ ...good, platformKeys: [{ serial: 'X', publicKeyPem: 'x'.repeat(200) }] }).expect(422)).body.error.code).toBe('VALIDATION_FAILED');
    expect((await request(svc.url).put('/api/v1/hosts/h_nobody/merchants/wechatpay').set(admin).send(good).expect(404)).body.error.code).toBe('NOT_FOUND');
    await request(svc.url).put(`/api/v1/hosts/${w.host.id}/merchants/wechatpay`).set(bearer(w.host.token)).send(good).expect(403);
    await request(svc.url).put(`/api/v1/hosts/${w.host.id}/merchants/alipay`).set(admin).send({ appId: ALI_APP, sellerId: PID, alipayPublicKeyPem: alipay.publicKeyPem }).expect(200);
  });

  it('when WeChat Pay notifies a payment, then the order is paid once; repeats and a rotated platform key are taken', async () => {
    const o = await place();
    const payload = txn(o);
    const first = await wx('TRANSACTION.SUCCESS', payload).expect(204);
    expect(first.text).toBe('');
    for (let i = 0; i < 3; i++) await wx('TRANSACTION.SUCCESS', payload, i === 2 ? { privateKey: platformB.privateKey, serial: 'PUB_KEY_ID_B' } : {}).expect(204);
    expect((await status(o.id)).status).toBe('paid');
    await waitFor(async () => (await ledger(o.id)).length === 1, 'one allocation');
    await new Promise((r) => setTimeout(r, 500));
    expect((await ledger(o.id)).map((e) => e.kind)).toEqual(['allocation']);
  });

  it('when a WeChat notification is forged, stale, undecryptable, for another merchant or off by a fen, then it is refused with FAIL and nothing changes', async () => {
    const o = await place();
    const p = txn(o);
    const cases: [string, () => request.Test, number, string][] = [
      ['probe signed with another key', () => wx('TRANSACTION.SUCCESS', p, { privateKey: rsaPair().privateKey }), 401, 'BAD_SIGNATURE'],
      ['no signature', () => wx('TRANSACTION.SUCCESS', p, { drop: 'wechatpay-signature' }), 401, 'BAD_SIGNATURE'],
      ['serial with no key', () => wx('TRANSACTION.SUCCESS', p, { serial: 'PUB_KEY_ID_C' }), 401, 'BAD_SIGNATURE'],
      ['timestamp 301 s old', () => wx('TRANSACTION.SUCCESS', p, { ts: Math.floor(Date.now() / 1000) - 301 }), 401, 'BAD_SIGNATURE'],
      ['ciphertext that does not authenticate', () => wx('TRANSACTION.SUCCESS', p, { key: apiV3Key() }), 400, 'DECRYPTION_FAILED'],
      ['another merchant in the body', () => wx('TRANSACTION.SUCCESS', { ...p, mchid: '1900000999' }), 422, 'MERCHANT_MISMATCH'],
      ['another app in the body', () => wx('TRANSACTION.SUCCESS', { ...p, appid: 'wx0000000000000000' }), 422, 'MERCHANT_MISMATCH'],
      ['amount one fen short', () => wx('TRANSACTION.SUCCESS', { ...p, amount: { total: o.totalFen - 1, payer_total: o.totalFen - 1, currency: 'CNY' } }), 422, 'AMOUNT_MISMATCH'],
      ['unregistered merchant in the URL', () => wx('TRANSACTION.SUCCESS', p, { mchid: '1900000777' }), 404, 'NOT_FOUND'],
    ];
    for (const [what, send, code, errorCode] of cases) {
      const r = await send();
      expect([what, r.status, r.body.code, r.body.error?.code]).toEqual([what, code, 'FAIL', errorCode]);
      expect(typeof r.body.message).toBe('string');
    }
    // (a loaded machine may let the 8 s reservation expire meanwhile: what matters is that nothing paid it)
    expect((await status(o.id)).status).not.toBe('paid');
    expect(await svc.deps.db.collection('provider_payments').countDocuments({ orderId: o.id })).toBe(0);
  });

  it('when WeChat Pay notifies refunds, then full and partial ones reverse exactly their units, repeats and abnormal ones change nothing', async () => {
    const o = await place(3);
    await wx('TRANSACTION.SUCCESS', txn(o)).expect(204);
    await wx('REFUND.SUCCESS', refundOf(o, 'RF-1', 4990)).expect(204);
    expect(await status(o.id)).toMatchObject({ status: 'partially_refunded', refundedQuantity: 1 });
    await wx('REFUND.SUCCESS', refundOf(o, 'RF-1', 4990)).expect(204); // WeChat's retry
    expect((await wx('REFUND.SUCCESS', refundOf(o, 'RF-2', 3 * 4990)).expect(409)).body.error.code).toBe('REFUND_EXCEEDS_REMAINING');
    expect((await wx('REFUND.SUCCESS', refundOf(o, 'RF-3', 4991)).expect(422)).body.error.code).toBe('AMOUNT_MISMATCH');
    await wx('REFUND.ABNORMAL', refundOf(o, 'RF-4', 4990, 'ABNORMAL')).expect(204);
    await wx('REFUND.CLOSED', refundOf(o, 'RF-5', 4990, 'CLOSED')).expect(204);
    expect(await status(o.id)).toMatchObject({ status: 'partially_refunded', refundedQuantity: 1 });
    expect(await svc.deps.db.collection('provider_refunds').countDocuments({ orderId: o.id, status: { $in: ['ABNORMAL', 'CLOSED'] } })).toBe(2);
    // the host refunds one unit in livegive and gives its refund id to WeChat as out_refund_no: the notification is then a no-op
    const host = await request(svc.url).post(`/api/v1/orders/${o.id}/refund`).set(bearer(w.host.token)).send({ quantity: 1 }).expect(200);
    await wx('REFUND.SUCCESS', refundOf(o, host.body.refundId, 4990)).expect(204);
    expect(await status(o.id)).toMatchObject({ status: 'partially_refunded', refundedQuantity: 2 });
    await wx('REFUND.SUCCESS', refundOf(o, 'RF-6', 4990)).expect(204);
    expect(await status(o.id)).toMatchObject({ status: 'refunded', refundedQuantity: 3 });
    await waitFor(async () => (await ledger(o.id)).filter((e) => e.kind === 'reversal').length === 3, 'three reversals');
    expect((await ledger(o.id)).reduce((n, e) => n + e.amountFen, 0)).toBe(0);
  });

  it('when Alipay notifies, then RSA2 forms are taken with "success", amounts are parsed exactly and refund_fee refunds whole units once', async () => {
    const o = await place(3);
    const base = { out_trade_no: o.id, trade_no: `2026120222001${randomBytes(4).toString('hex')}`, buyer_id: '2088102177846875', subject: '赣南脐橙', total_amount: fenToYuan(o.totalFen), receipt_amount: fenToYuan(o.totalFen), gmt_payment: beijingText(), notify_time: beijingText() };
    const bad: [string, Record<string, string>, object, number, string][] = [
      ['total_amount 12.3', { ...base, total_amount: '12.3', trade_status: 'TRADE_SUCCESS' }, {}, 422, 'VALIDATION_FAILED'],
      ['total_amount 1e2', { ...base, total_amount: '1e2', trade_status: 'TRADE_SUCCESS' }, {}, 422, 'VALIDATION_FAILED'],
      ['one fen short', { ...base, total_amount: fenToYuan(o.totalFen - 1), trade_status: 'TRADE_SUCCESS' }, {}, 422, 'AMOUNT_MISMATCH'],
      ['signed by another key', { ...base, trade_status: 'TRADE_SUCCESS' }, { key: rsaPair().privateKey }, 401, 'BAD_SIGNATURE'],
      ['another seller', { ...base, seller_id: '2088000000000009', trade_status: 'TRADE_SUCCESS' }, {}, 422, 'MERCHANT_MISMATCH'],
      ['another app', { ...base, app_id: '2021000000000009', trade_status: 'TRADE_SUCCESS' }, {}, 422, 'MERCHANT_MISMATCH'],
    ];
    for (const [what, params, opts, code, errorCode] of bad) {
      const r = await ali(params, opts);
      expect([what, r.status, r.body.error?.code]).toEqual([what, code, errorCode]);
    }
    const unsigned = await request(svc.url).post(`/api/v1/payments/alipay/${ALI_APP}/notify`).type('form').send(`app_id=${ALI_APP}&out_trade_no=${o.id}&total_amount=1.00`);
    expect([unsigned.status, unsigned.body.error.code]).toEqual([401, 'BAD_SIGNATURE']);
    expect((await status(o.id)).status).not.toBe('paid');

    // a fresh order, so the refusals above cannot have let its reservation run out
    const fresh = await place(3);
    Object.assign(base, { out_trade_no: fresh.id });
    const paid = await ali({ ...base, trade_status: 'TRADE_SUCCESS' }, { charset: 'gbk' }).expect(200);
    expect([paid.text, paid.headers['content-type']]).toEqual(['success', 'text/plain; charset=utf-8']);
    expect((await ali({ ...base, trade_status: 'TRADE_SUCCESS' }).expect(200)).text).toBe('success');
    expect((await status(fresh.id)).status).toBe('paid');
    // a partial refund: TRADE_SUCCESS sent again with the refunded total; the same notice twice refunds once
    const partial = { ...base, trade_status: 'TRADE_SUCCESS', refund_fee: '49.90', gmt_refund: beijingText() };
    await ali(partial).expect(200);
    await ali(partial).expect(200);
    expect(await status(fresh.id)).toMatchObject({ status: 'partially_refunded', refundedQuantity: 1 });
    await ali({ ...base, trade_status: 'TRADE_CLOSED', refund_fee: fenToYuan(fresh.totalFen), gmt_refund: beijingText(), gmt_close: beijingText() }).expect(200);
    expect(await status(fresh.id)).toMatchObject({ status: 'refunded', refundedQuantity: 3 });
  });

  it('when the livegive HMAC header carries an old and a new v1 during rotation, then the payment is taken', async () => {
    const o = await place();
    const raw = JSON.stringify({ orderId: o.id, paymentId: 'pay_rot', amountFen: o.totalFen, status: 'succeeded' });
    const t = Math.floor(Date.now() / 1000);
    const old = signPayment('the-previous-secret-0123456789', raw, t).split('v1=')[1];
    const header = `t=${t},v1=${old},v1=${signPayment(PAYMENT_SECRET, raw, t).split('v1=')[1]}`;
    await request(svc.url).post('/api/v1/payments/notify').set('content-type', 'application/json').set('livegive-signature', header).send(raw).expect(200);
    expect((await status(o.id)).status).toBe('paid');
  });

  it('when payment notifications race the orders\' expiry, then each order ends either paid (204) or expired (409), never both, and stock agrees', async () => {
    // a product of its own, so no other test's reservation expiring meanwhile moves its stock
    const p = (await request(svc.url).post('/api/v1/products').set(bearer(w.host.token)).send({ name: '核桃', origin: '云南', unit: '袋', priceFen: 4990, stock: 50, pledge: { charityId: w.charity.id, perUnitFen: 200 } }).expect(201)).body;
    await request(svc.url).put(`/api/v1/streams/${w.stream.id}/products`).set(bearer(w.host.token)).send({ productIds: [w.product.id, p.id] }).expect(200);
    const stockKey = stockKeyOf(svc.deps, p.id);
    const orders = [];
    for (let i = 0; i < 6; i++) orders.push(await place(1, p.id));
    const before = Number(await svc.deps.redis.get(stockKey));
    const placedAt = Date.now();
    const answers = await Promise.all(orders.map(async (o, i) => {
      // around the 8 s expiry, while the sweeper (every 100 ms) expires what is due
      await new Promise((r) => setTimeout(r, Math.max(0, placedAt + 7700 + i * 120 - Date.now())));
      return (await wx('TRANSACTION.SUCCESS', txn(o))).status;
    }));
    await new Promise((r) => setTimeout(r, 800));
    const states = await Promise.all(orders.map(async (o) => (await status(o.id)).status));
    for (let i = 0; i < orders.length; i++) expect([answers[i], states[i]]).toEqual(answers[i] === 204 ? [204, 'paid'] : [409, 'expired']);
    expect(Number(await svc.deps.redis.get(stockKey))).toBe(before + states.filter((s) => s === 'expired').length);
  }, 30_000);
});
