import { createPublicKey } from 'node:crypto';
import type { Collection } from 'mongodb';
import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { CatalogRepository } from '../catalog';
import { PAYMENT_COLLECTIONS, type MerchantDoc, type Provider } from './payments.models';
import { seal, secretsKey, unseal } from './secrets';

export const merchants = (deps: Pick<Deps, 'db'>): Collection<MerchantDoc> => deps.db.collection<MerchantDoc>(PAYMENT_COLLECTIONS.merchants);

/** A PEM public key, RSA of at least 2048 bits (Alipay hands out bare base64: it is wrapped). */
export function rsaPublicKeyPem(text: string, field: string): string {
  const pem = text.includes('-----BEGIN') ? text : `-----BEGIN PUBLIC KEY-----\n${text.replace(/\s+/g, '').replace(/(.{64})/g, '$1\n')}\n-----END PUBLIC KEY-----\n`;
  try {
    const k = createPublicKey(pem);
    if (k.asymmetricKeyType === 'rsa' && (k.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return k.export({ type: 'spki', format: 'pem' }).toString();
  } catch { /* refused below */ }
  throw new DomainError('VALIDATION_FAILED', 'not an RSA public key of at least 2048 bits', [{ field, message: 'must be an RSA-2048 public key (PEM)' }]);
}

async function putMerchant(deps: Deps, doc: MerchantDoc): Promise<void> {
  if (!(await new CatalogRepository(deps).hosts.findOne({ _id: doc.hostId }))) throw new DomainError('NOT_FOUND', 'no such host');
  const prior = await merchants(deps).findOne({ _id: doc._id }, { projection: { hostId: 1 } });
  if (prior && prior.hostId !== doc.hostId) throw new DomainError('CONFLICT', 'this merchant account is registered to another host');
  // the operator is the one writer of a merchant account
  await merchants(deps).replaceOne({ _id: doc._id }, doc, { upsert: true });
}

export interface WechatMerchantInput { mchid: string; appid: string; apiV3Key: string; platformKeys: { serial: string; publicKeyPem: string }[] }

/** Registers (or replaces) a host's WeChat Pay merchant: the APIv3 key is sealed with LIVEGIVE_SECRETS_KEY and never returned. */
export async function putWechatMerchant(deps: Deps, hostId: string, input: WechatMerchantInput) {
  const id = `wechatpay:${input.mchid}`;
  const platformKeys = input.platformKeys.map((k, i) => ({ serial: k.serial, publicKeyPem: rsaPublicKeyPem(k.publicKeyPem, `body.platformKeys.${i}.publicKeyPem`) }));
  if (new Set(platformKeys.map((k) => k.serial)).size !== platformKeys.length) throw new DomainError('VALIDATION_FAILED', 'each platform key needs its own serial', [{ field: 'body.platformKeys', message: 'serials must differ' }]);
  const key = secretsKey(deps.config.payments.secretsKey);
  await putMerchant(deps, {
    _id: id, provider: 'wechatpay', hostId, billAccount: input.mchid, updatedAt: new Date(),
    wechatpay: { mchid: input.mchid, appid: input.appid, apiV3KeySealed: seal(key, input.apiV3Key, id), platformKeys },
  });
  return { provider: 'wechatpay' as const, hostId, mchid: input.mchid, appid: input.appid, serials: platformKeys.map((k) => k.serial) };
}

/** Registers (or replaces) a host's Alipay app: Alipay's public key verifies its notifications. */
export async function putAlipayMerchant(deps: Deps, hostId: string, input: { appId: string; sellerId: string; alipayPublicKeyPem: string }) {
  const pem = rsaPublicKeyPem(input.alipayPublicKeyPem, 'body.alipayPublicKeyPem');
  await putMerchant(deps, {
    _id: `alipay:${input.appId}`, provider: 'alipay', hostId, billAccount: input.sellerId, updatedAt: new Date(),
    alipay: { appId: input.appId, sellerId: input.sellerId, alipayPublicKeyPem: pem },
  });
  return { provider: 'alipay' as const, hostId, appId: input.appId, sellerId: input.sellerId };
}

/** The merchant a notify URL names; the keys that verify it come from here, never from the request. */
export async function merchantById(deps: Deps, provider: Provider, id: string): Promise<MerchantDoc | null> {
  return merchants(deps).findOne({ _id: `${provider}:${id}` }); // by _id
}

/** The merchant a bill file names (mchid or seller_id). */
export async function merchantByBillAccount(deps: Deps, provider: Provider, account: string): Promise<MerchantDoc | null> {
  return merchants(deps).findOne({ provider, billAccount: account }); // index {provider, billAccount}
}

export function apiV3KeyOf(deps: Deps, m: MerchantDoc): string {
  return unseal(secretsKey(deps.config.payments.secretsKey), m.wechatpay!.apiV3KeySealed, m._id);
}
