import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ServiceProcess, freePort } from '../../scripts/chaos/processes';
import { testEnv, ADMIN_TOKEN, PAYMENT_SECRET } from '../helpers/env';
import { call, rng, Answer } from '../../scripts/chaos/http-client';
import { Sale } from '../../scripts/chaos/sale';
import { signPayment } from '../../src/orders/payment-signature';
import { usccCheckChar } from '../../src/catalog/uscc';
import { rsaPair, apiV3Key, wechatNotification } from '../helpers/providers';

/** Runs the real service as a process at trace level, drives every kind of request, then greps everything it logged. */
describe('logs and error bodies never carry secrets or tokens', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lg-logs-'));
  let svc: ServiceProcess;
  const secretsKey = randomBytes(32).toString('hex');
  const secrets = new Map<string, string>([['admin token', ADMIN_TOKEN], ['payment secret', PAYMENT_SECRET], ['secrets key', secretsKey]]);
  const errorBodies: string[] = [];
  let log = '';
  const wxStatuses: number[] = [];

  const track = async <T>(a: Promise<Answer<T>>) => { const r = await a; if (r.status >= 400) errorBodies.push(JSON.stringify(r.body)); return r; };

  beforeAll(async () => {
    svc = new ServiceProcess('api', 'all', testEnv({ LIVEGIVE_LOG_LEVEL: 'trace', LIVEGIVE_RATE_LIMITS: 'on', LIVEGIVE_RATE_SIGNUPS_PER_MINUTE: '6', LIVEGIVE_SECRETS_KEY: secretsKey }), path.join(dir, 'service.log'), await freePort());
    await svc.start();
    const sale = new Sale(() => [svc.url], { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random: rng(17), payRatio: 1, refundRatio: 1 });
    const s = await sale.prepare({ charities: 1, products: 1, stock: 50, viewers: 2 });
    secrets.set('host token', s.hostToken);
    s.viewers.forEach((v, i) => secrets.set(`viewer token ${i}`, v.token));
    let code = '5342'; for (let i = 0; i < 13; i++) code += '0123456789ABCDEFGHJKLMNPQRTUWXY'[randomBytes(1)[0] % 31];
    const charity = await call<{ token: string; id: string }>(svc.url, 'POST', '/api/v1/charities', { token: ADMIN_TOKEN, body: { name: '日志慈善', registrationNo: code + usccCheckChar(code) } });
    secrets.set('charity token', charity.body.token);
    await track(call(svc.url, 'GET', `/api/v1/charities/${charity.body.id}/ledger`, { token: charity.body.token }));

    const o = await track(call<{ id: string; totalFen: number }>(svc.url, 'POST', '/api/v1/orders', { token: s.viewers[0].token, headers: { 'idempotency-key': 'logs-1' }, body: { streamId: s.streamId, productId: s.productIds[0], quantity: 1 } }));
    const raw = JSON.stringify({ orderId: o.body.id, paymentId: 'pay_logs', amountFen: o.body.totalFen, status: 'succeeded' });
    const sig = signPayment(PAYMENT_SECRET, raw);
    secrets.set('payment signature', sig.split('v1=')[1]);
    await track(call(svc.url, 'POST', '/api/v1/payments/notify', { raw, headers: { 'livegive-signature': sig } }));
    await track(call(svc.url, 'POST', `/api/v1/orders/${o.body.id}/refund`, { token: s.hostToken }));
    // a WeChat Pay merchant's APIv3 key, given once by the operator, then used to decrypt a notification (and a refused one)
    const v3 = apiV3Key();
    secrets.set('APIv3 key', v3);
    const platform = rsaPair();
    const hostId = (await call<{ hostId: string }>(svc.url, 'GET', `/api/v1/products/${s.productIds[0]}`, { token: s.hostToken })).body.hostId;
    await track(call(svc.url, 'PUT', `/api/v1/hosts/${hostId}/merchants/wechatpay`, { token: ADMIN_TOKEN, body: { mchid: '1900000301', appid: 'wx1', apiV3Key: v3, platformKeys: [{ serial: 'S1', publicKeyPem: platform.publicKeyPem }] } }));
    const o2 = await track(call<{ id: string; totalFen: number }>(svc.url, 'POST', '/api/v1/orders', { token: s.viewers[0].token, headers: { 'idempotency-key': 'logs-wx' }, body: { streamId: s.streamId, productId: s.productIds[0], quantity: 1 } }));
    for (const privateKey of [platform.privateKey, rsaPair().privateKey]) {
      const n = wechatNotification({ key: v3, privateKey, serial: 'S1', eventType: 'TRANSACTION.SUCCESS', payload: { mchid: '1900000301', appid: 'wx1', out_trade_no: o2.body.id, transaction_id: '4200301', trade_state: 'SUCCESS', success_time: new Date().toISOString(), amount: { total: o2.body.totalFen, currency: 'CNY' } } });
      secrets.set(`WeChat signature ${secrets.size}`, n.headers['wechatpay-signature']);
      wxStatuses.push((await track(call(svc.url, 'POST', '/api/v1/payments/wechatpay/1900000301/notify', { raw: n.body, headers: n.headers }))).status);
    }
    // refusals of every kind: a wrong token, a forged signature, bad JSON, an invalid body, someone else's data, a rate limit
    const wrong = `lg_viewer_${randomBytes(24).toString('base64url')}`;
    secrets.set('unknown bearer token', wrong);
    await track(call(svc.url, 'GET', `/api/v1/orders/${o.body.id}`, { token: wrong }));
    const forged = signPayment('forged-secret-0123456789abcdefgh', raw);
    secrets.set('forged signature', forged.split('v1=')[1]);
    await track(call(svc.url, 'POST', '/api/v1/payments/notify', { raw, headers: { 'livegive-signature': forged } }));
    await track(call(svc.url, 'POST', '/api/v1/orders', { token: s.viewers[1].token, raw: '{"streamId": ', headers: { 'idempotency-key': 'logs-2' } }));
    await track(call(svc.url, 'POST', '/api/v1/orders', { token: s.viewers[1].token, body: { streamId: s.streamId, quantity: -1, token: s.viewers[1].token }, headers: { 'idempotency-key': 'logs-3' } }));
    await track(call(svc.url, 'GET', `/api/v1/orders/${o.body.id}`, { token: s.viewers[1].token }));
    await track(call(svc.url, 'GET', `/api/v1/orders/${o.body.id}?token=${s.viewers[1].token}`, { token: s.viewers[1].token }));
    for (let i = 0; i < 8; i++) await track(call(svc.url, 'POST', '/api/v1/viewers', { body: { nickname: `flood${i}` } }));
    await svc.stop();
    await svc.close();
    log = readFileSync(svc.logFile, 'utf8');
  }, 120_000);

  it('when the service has handled sign-ups, orders, payments, refunds and refusals, then its logs hold none of the secrets or tokens', () => {
    // the capture is real: every request above was logged (trace level), refusals included
    expect(log.split('"msg":"request completed"').length - 1).toBeGreaterThanOrEqual(25);
    expect(log).toContain('"statusCode":401');
    expect(wxStatuses).toEqual([204, 401]); // the merchant's key decrypted one notification; a forged one was refused
    const leaks = [...secrets].filter(([, v]) => log.includes(v)).map(([k]) => k);
    expect(leaks).toEqual([]);
  });

  it('when requests are refused, then the error bodies carry a code and none of the secrets or tokens', () => {
    expect(errorBodies.length).toBeGreaterThanOrEqual(8);
    for (const b of errorBodies) expect(b).toMatch(/"code":"[A-Z_]+"/);
    const leaks = [...secrets].filter(([, v]) => errorBodies.some((b) => b.includes(v))).map(([k]) => k);
    expect(leaks).toEqual([]);
  });
});
