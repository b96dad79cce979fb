import { z, Id } from '../infra/zod';
export { WechatMerchantBody, AlipayMerchantBody } from './wechatpay.schemas';

export const HostIdParams = z.object({ id: Id });
export const MchidParams = z.object({ mchid: z.string().regex(/^\d{6,32}$/, 'a WeChat Pay merchant number') });
export const AppIdParams = z.object({ appId: z.string().regex(/^\d{6,32}$/, 'an Alipay app id') });

export const WechatMerchantAnswer = z.object({ provider: z.literal('wechatpay'), hostId: z.string(), mchid: z.string(), appid: z.string(), serials: z.array(z.string()) }).openapi('WechatMerchantAnswer');
export const AlipayMerchantAnswer = z.object({ provider: z.literal('alipay'), hostId: z.string(), appId: z.string(), sellerId: z.string() }).openapi('AlipayMerchantAnswer');

export const WechatHeaders = z.object({
  'wechatpay-serial': z.string().max(64).optional(), 'wechatpay-signature': z.string().max(1024).optional(),
  'wechatpay-timestamp': z.string().max(16).optional(), 'wechatpay-nonce': z.string().max(64).optional(),
  'wechatpay-signature-type': z.string().max(64).optional(),
});
export const WechatFail = z.object({
  code: z.literal('FAIL'), message: z.string(),
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
}).openapi('WechatFail');

export const ReconcileQuery = z.object({
  provider: z.enum(['wechatpay', 'alipay']),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD (Asia/Shanghai day)').optional(),
  merchant: z.string().regex(/^\d{6,32}$/).optional().openapi({ description: 'the merchant the bill must be for (WeChat mchid, Alipay PID)' }),
  format: z.enum(['json', 'csv']).optional(),
});
export const ReconciliationReport = z.object({
  provider: z.string(), date: z.string(), merchantId: z.string(), balanced: z.boolean(),
  summary: z.object({
    paymentsThere: z.number().int(), paymentsHere: z.number().int(), paidThereFen: z.number().int(), paidHereFen: z.number().int(),
    refundedThereFen: z.number().int(), refundedHereFen: z.number().int(), feeFen: z.number().int(), settledThereFen: z.number().int(),
    differences: z.number().int(), unresolved: z.number().int(),
  }),
  differences: z.array(z.object({
    kind: z.enum(['paid_there_not_here', 'paid_here_not_there', 'amount_mismatch', 'refund_mismatch', 'duplicate_charge']), orderId: z.string(), providerRef: z.string(),
    hereFen: z.number().int(), thereFen: z.number().int(), action: z.enum(['apply', 'applied', 'already_applied', 'refund_at_provider', 'investigate']), detail: z.string().optional(),
  })),
}).openapi('ReconciliationReport');
export const AlipaySuccess = z.literal('success').openapi('AlipaySuccess');
