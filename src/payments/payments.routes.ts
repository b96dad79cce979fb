import express, { type Request } from 'express';
import type { Api } from '../infra/http';
import type { Deps } from '../deps';
import { DomainError, errorStatus } from '../infra/errors';
import { rateLimit, byAddress } from '../infra/rate-limit';
import * as S from './payments.schemas';
import { putAlipayMerchant, putWechatMerchant } from './merchants';
import { handleWechatNotify } from './wechatpay.notify';
import { handleAlipayNotify } from './alipay.notify';
import { runReconciliation } from './run-reconciliation';
import { reportCsv } from './reconcile';

const rawBody = (req: Request) => (req as Request & { rawBody?: Buffer }).rawBody ?? (Buffer.isBuffer(req.body) ? req.body : undefined);

export function paymentsRoutes(api: Api, deps: Deps): void {
  const tag = 'payments';
  const limit = rateLimit(deps, 'payments', deps.config.rateLimits.paymentsPerSecond, 1, (req) => [byAddress(req)]);

  api.route({
    method: 'put', path: '/api/v1/hosts/:id/merchants/wechatpay', tag, auth: ['operator'], params: S.HostIdParams, body: S.WechatMerchantBody,
    summary: 'Register a host\'s WeChat Pay merchant (API v3): its APIv3 key is stored encrypted and never returned',
    responses: { 200: { description: 'registered', schema: S.WechatMerchantAnswer } }, errors: [404, 409],
  }, async ({ params, body }) => ({ status: 200, body: await putWechatMerchant(deps, params.id, body) }));

  api.route({
    method: 'put', path: '/api/v1/hosts/:id/merchants/alipay', tag, auth: ['operator'], params: S.HostIdParams, body: S.AlipayMerchantBody,
    summary: 'Register a host\'s Alipay app: Alipay\'s public key verifies its notifications',
    responses: { 200: { description: 'registered', schema: S.AlipayMerchantAnswer } }, errors: [404, 409],
  }, async ({ params, body }) => ({ status: 200, body: await putAlipayMerchant(deps, params.id, body) }));

  api.route({
    method: 'post', path: '/api/v1/payments/wechatpay/:mchid/notify', tag, auth: 'public', params: S.MchidParams, headers: S.WechatHeaders,
    summary: 'WeChat Pay API v3 notification (TRANSACTION.SUCCESS, REFUND.*) for this merchant: 204 when taken, else {"code":"FAIL"}',
    responses: { 204: { description: 'taken (also for a repeat)' } }, errors: [400, 401, 404, 409],
    before: [limit],
  }, async ({ params, req, res }) => {
    try {
      await handleWechatNotify(deps, params.mchid, {
        serial: req.get('wechatpay-serial'), signature: req.get('wechatpay-signature'), timestamp: req.get('wechatpay-timestamp'),
        nonce: req.get('wechatpay-nonce'), signatureType: req.get('wechatpay-signature-type'),
      }, rawBody(req));
      deps.metrics.providerNotifications.inc({ provider: 'wechatpay', outcome: 'taken' });
      res.status(204).end();
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      deps.metrics.providerNotifications.inc({ provider: 'wechatpay', outcome: err.code });
      // WeChat reads {"code": "FAIL", "message"}; livegive's own error shape rides along
      if (err.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(Math.ceil(err.retryAfterSeconds)));
      res.status(errorStatus[err.code]).json({ code: 'FAIL', message: err.message, error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } });
    }
    return undefined;
  });

  api.route({
    method: 'post', path: '/api/v1/payments/alipay/:appId/notify', tag, auth: 'public', params: S.AppIdParams,
    summary: 'Alipay asynchronous notification (form-encoded, RSA2) for this app: the text "success" when taken',
    responses: { 200: { description: 'taken (also for a repeat)', contentType: 'text/plain', schema: S.AlipaySuccess } }, errors: [400, 401, 404, 409],
    before: [limit, express.raw({ type: 'application/x-www-form-urlencoded', limit: deps.config.http.bodyLimit })],
  }, async ({ params, req, res }) => {
    try {
      await handleAlipayNotify(deps, params.appId, rawBody(req));
    } catch (err) {
      deps.metrics.providerNotifications.inc({ provider: 'alipay', outcome: err instanceof DomainError ? err.code : 'INTERNAL' });
      throw err;
    }
    deps.metrics.providerNotifications.inc({ provider: 'alipay', outcome: 'taken' });
    res.status(200).type('text/plain').send('success');
    return undefined;
  });

  api.route({
    method: 'post', path: '/api/v1/reconciliations', tag, auth: ['operator'], query: S.ReconcileQuery,
    summary: 'Reconcile one day\'s provider bill (raw file body: WeChat CSV, Alipay zip): differences to the fen, lost payments applied',
    responses: { 200: { description: 'the report (JSON, or CSV with format=csv)', schema: S.ReconciliationReport } }, errors: [413],
    before: [express.raw({ type: () => true, limit: '20mb' })],
  }, async ({ query, req, res }) => {
    const file = Buffer.isBuffer(req.body) ? req.body : rawBody(req) ?? Buffer.alloc(0);
    const report = await runReconciliation(deps, { provider: query.provider, file, date: query.date, merchant: query.merchant });
    if (query.format === 'csv') { res.status(200).type('text/csv; charset=utf-8').send(reportCsv(report)); return undefined; }
    return { status: 200, body: report };
  });
}
