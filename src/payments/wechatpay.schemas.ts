import { z } from '../infra/zod';

/** The notification envelope (API v3): the payload is encrypted in `resource`. */
export const WechatNotification = z.object({
  id: z.string().min(1).max(64),
  create_time: z.string().max(40).optional(),
  resource_type: z.literal('encrypt-resource'),
  event_type: z.string().min(1).max(64),
  summary: z.string().max(200).optional(),
  resource: z.object({
    original_type: z.string().max(32),
    algorithm: z.literal('AEAD_AES_256_GCM'),
    ciphertext: z.string().min(1).max(16_384).regex(/^[A-Za-z0-9+/]+={0,2}$/),
    nonce: z.string().length(12),
    associated_data: z.string().max(64).optional(),
  }),
});

const RefId = z.string().regex(/^[\w.:-]{1,64}$/, 'letters, digits, _ . : - only');

/** TRANSACTION.SUCCESS, decrypted: amounts in integer fen. */
export const WechatTransaction = z.object({
  mchid: z.string(), appid: z.string(), out_trade_no: z.string().max(64), transaction_id: RefId,
  trade_state: z.string(), success_time: z.string().datetime({ offset: true }),
  amount: z.object({ total: z.number().int().min(1), payer_total: z.number().int().optional(), currency: z.literal('CNY') }),
});

/** REFUND.SUCCESS | REFUND.ABNORMAL | REFUND.CLOSED, decrypted. */
export const WechatRefund = z.object({
  mchid: z.string(), out_trade_no: z.string().max(64), transaction_id: z.string().max(64), out_refund_no: RefId, refund_id: z.string().max(64),
  refund_status: z.enum(['SUCCESS', 'ABNORMAL', 'CLOSED']), success_time: z.string().datetime({ offset: true }).optional(),
  amount: z.object({ total: z.number().int().min(1), refund: z.number().int().min(1), payer_total: z.number().int().optional(), payer_refund: z.number().int().optional() }),
});

export const WechatMerchantBody = z.object({
  mchid: z.string().regex(/^\d{6,32}$/, 'digits only'),
  appid: z.string().regex(/^[A-Za-z0-9_]{1,32}$/),
  apiV3Key: z.string().regex(/^[\x21-\x7e]{32}$/, 'must be the 32-character APIv3 key'),
  platformKeys: z.array(z.object({ serial: z.string().regex(/^[A-Za-z0-9_]{1,64}$/), publicKeyPem: z.string().min(100).max(4096) }).strict()).min(1).max(10),
}).strict().openapi('WechatMerchant');

export const AlipayMerchantBody = z.object({
  appId: z.string().regex(/^\d{6,32}$/, 'digits only'),
  sellerId: z.string().regex(/^2088\d{12}$/, 'an Alipay PID: 2088 and 12 digits'),
  alipayPublicKeyPem: z.string().min(100).max(4096),
}).strict().openapi('AlipayMerchant');
