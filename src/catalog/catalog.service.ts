import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import type { Principal } from '../infra/auth';
import { DomainError } from '../infra/errors';
import type { z } from '../infra/zod';
import { CatalogRepository } from './catalog.repository';
import type { CharityDoc, ProductDoc, StreamDoc } from './catalog.models';
import type { CreateProductBody, PatchProductBody } from './catalog.schemas';
import { agreementForPledge, cacheAgreementFor, newProductId } from '../agreements/product-pledge';
import type { AgreementDoc } from '../agreements/agreement.types';

export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`;

const isDup = (e: unknown) => (e as { code?: number }).code === 11000;

/** Registers a charity and mints its token (returned once). */
export async function registerCharity(deps: Deps, input: { name: string; registrationNo: string }) {
  const repo = new CatalogRepository(deps);
  const doc: CharityDoc = { _id: newId('c'), name: input.name, registrationNo: input.registrationNo, active: true, createdAt: new Date() };
  try {
    await repo.charities.insertOne(doc);
  } catch (e) {
    if (isDup(e)) throw new DomainError('CONFLICT', 'a charity with this registration number exists', [{ field: 'body.registrationNo', message: 'already registered' }]);
    throw e;
  }
  const token = await deps.tokens.issue('charity', doc._id);
  return { id: doc._id, name: doc.name, registrationNo: doc.registrationNo, active: true, token };
}

/**
 * Activates or deactivates a charity. Deactivated, every product pledging to it stops selling at once on every
 * API instance (its hot copy in Redis loses its price); orders already placed keep their pledge snapshot.
 */
export async function setCharityActive(deps: Deps, charityId: string, active: boolean) {
  const repo = new CatalogRepository(deps);
  const c = await repo.charities.findOneAndUpdate({ _id: charityId }, { $set: { active } }, { returnDocument: 'after' });
  if (!c) throw new DomainError('NOT_FOUND', 'no such charity');
  // served by { 'pledge.charityId': 1 }
  for await (const p of repo.products.find({ 'pledge.charityId': charityId })) await repo.cacheProductTerms(p, c.name, active);
  return { id: c._id, name: c.name, registrationNo: c.registrationNo, active: c.active };
}

export async function activeCharity(repo: CatalogRepository, charityId: string): Promise<CharityDoc> {
  const c = await repo.charities.findOne({ _id: charityId });
  if (!c) throw new DomainError('VALIDATION_FAILED', 'unknown charity', [{ field: 'body.pledge.charityId', message: 'no such charity' }]);
  if (!c.active) throw new DomainError('CHARITY_INACTIVE', 'this charity is not active');
  return c;
}

export function productView(p: ProductDoc, charityName: string, remaining: number) {
  return {
    id: p._id, hostId: p.hostId, name: p.name, origin: p.origin, unit: p.unit, priceFen: p.priceFen, stock: p.stock, remaining,
    buyerLimit: p.buyerLimit, pledge: { charityId: p.pledge.charityId, charityName, perUnitFen: p.pledge.perUnitFen, agreementId: p.pledge.agreementId ?? null },
    restockOnRefund: p.restockOnRefund === true,
  };
}

/**
 * Lists a host's product with a per-unit pledge to an active charity under an agreement (named, or given per
 * LIVEGIVE_PLEDGE_WITHOUT_AGREEMENT); its stock goes on sale at once. Its id falls in the shard of its host and
 * charity, where a capped agreement's counters live, so one script moves stock and cap together.
 */
export async function createProduct(deps: Deps, hostId: string, input: z.infer<typeof CreateProductBody>) {
  const repo = new CatalogRepository(deps);
  const charity = await activeCharity(repo, input.pledge.charityId);
  const id = newProductId(hostId, charity._id);
  const agreement = await agreementForPledge(deps, hostId, id, input.pledge);
  const now = new Date();
  const p: ProductDoc = {
    _id: id, hostId, name: input.name, origin: input.origin, unit: input.unit, priceFen: input.priceFen, stock: input.stock,
    pledge: { charityId: charity._id, perUnitFen: input.pledge.perUnitFen, agreementId: agreement?._id ?? null }, buyerLimit: input.buyerLimit ?? deps.config.orders.defaultBuyerLimit,
    restockOnRefund: input.restockOnRefund ?? false, createdAt: now, updatedAt: now,
  };
  await repo.products.insertOne(p);
  await cacheTerms(deps, repo, p, agreement, charity.name);
  const remaining = await repo.addStock(p._id, p.stock);
  return productView(p, charity.name, remaining);
}

/** The agreement's hot copy first, then the terms that name it: no order sees terms naming an agreement its shard lacks. */
async function cacheTerms(deps: Deps, repo: CatalogRepository, p: ProductDoc, agreement: AgreementDoc | null, charityName: string, charityActive?: boolean) {
  if (agreement) await cacheAgreementFor(deps, agreement, p._id);
  await repo.cacheProductTerms(p, charityName, charityActive);
}

export async function ownedProduct(repo: CatalogRepository, principal: Principal, productId: string): Promise<ProductDoc> {
  const p = await repo.products.findOne({ _id: productId });
  if (!p || (principal.role !== 'operator' && p.hostId !== principal.id)) throw new DomainError('NOT_FOUND', 'no such product');
  return p;
}

/** Edits a product: new terms apply to later orders only (orders keep their snapshot); stock can be added while live. */
export async function editProduct(deps: Deps, principal: Principal, productId: string, input: z.infer<typeof PatchProductBody>) {
  const repo = new CatalogRepository(deps);
  const p = await ownedProduct(repo, principal, productId);
  const next: ProductDoc = {
    ...p, name: input.name ?? p.name, priceFen: input.priceFen ?? p.priceFen, pledge: input.pledge ? { charityId: input.pledge.charityId, perUnitFen: input.pledge.perUnitFen } : p.pledge,
    buyerLimit: input.buyerLimit ?? p.buyerLimit, restockOnRefund: input.restockOnRefund ?? p.restockOnRefund ?? false, stock: p.stock + (input.addStock ?? 0), updatedAt: new Date(),
  };
  if (next.pledge.perUnitFen > next.priceFen) throw new DomainError('VALIDATION_FAILED', 'pledge exceeds price', [{ field: 'body.pledge.perUnitFen', message: 'must not exceed priceFen' }]);
  const charity = input.pledge ? await activeCharity(repo, input.pledge.charityId) : await repo.charities.findOne({ _id: p.pledge.charityId });
  // a new pledge names its agreement (or gets one, per LIVEGIVE_PLEDGE_WITHOUT_AGREEMENT); unchanged terms keep theirs
  const agreement = input.pledge ? await agreementForPledge(deps, p.hostId, p._id, input.pledge, p.pledge.agreementId) : null;
  if (input.pledge) next.pledge.agreementId = agreement?._id ?? null;
  // the product has one writer (its host); stock additions are counted in Redis, atomically
  await repo.products.replaceOne({ _id: p._id }, next);
  await cacheTerms(deps, repo, next, agreement, charity?.name ?? '');
  const remaining = input.addStock ? await repo.addStock(p._id, input.addStock) : (await repo.remaining([p._id])).get(p._id) ?? 0;
  return productView(next, charity?.name ?? '', remaining);
}

export function streamView(s: StreamDoc) {
  return { id: s._id, hostId: s.hostId, title: s.title, status: s.status, goalFen: s.goalFen, productIds: s.productIds, ...(s.paymentWindowSeconds ? { paymentWindowSeconds: s.paymentWindowSeconds } : {}) };
}

export async function ownedStream(repo: CatalogRepository, principal: Principal, streamId: string): Promise<StreamDoc> {
  const s = await repo.streams.findOne({ _id: streamId });
  if (!s || (principal.role !== 'operator' && s.hostId !== principal.id)) throw new DomainError('NOT_FOUND', 'no such stream');
  return s;
}

/** Pins the host's own products on a stream (replacing the pinned set). */
export async function pinProducts(deps: Deps, principal: Principal, streamId: string, productIds: string[]) {
  const repo = new CatalogRepository(deps);
  const s = await ownedStream(repo, principal, streamId);
  if (s.status === 'ended') throw new DomainError('INVALID_STATE', 'the stream has ended');
  const ids = [...new Set(productIds)];
  const found = ids.length ? await repo.products.find({ _id: { $in: ids } }, { projection: { hostId: 1 } }).toArray() : [];
  const bad = ids.filter((id) => !found.some((f) => f._id === id && f.hostId === s.hostId));
  if (bad.length) throw new DomainError('VALIDATION_FAILED', 'only your own products can be pinned', bad.map((id) => ({ field: 'body.productIds', message: `unknown product ${id}` })));
  const next = { ...s, productIds: ids };
  await repo.streams.updateOne({ _id: s._id }, { $set: { productIds: ids } });
  await repo.cacheStream(next);
  return streamView(next);
}

/** Moves a stream scheduled → live → ended; the order script sees the status at once. */
export async function setStreamStatus(deps: Deps, principal: Principal, streamId: string, to: 'live' | 'ended') {
  const repo = new CatalogRepository(deps);
  const s = await ownedStream(repo, principal, streamId);
  if (s.status === to) return streamView(s);
  if ((to === 'live' && s.status !== 'scheduled') || (to === 'ended' && s.status !== 'live')) {
    throw new DomainError('INVALID_STATE', `a ${s.status} stream cannot become ${to}`);
  }
  const next: StreamDoc = { ...s, status: to, ...(to === 'live' ? { startedAt: new Date() } : { endedAt: new Date() }) };
  await repo.streams.updateOne({ _id: s._id }, { $set: { status: to, ...(to === 'live' ? { startedAt: next.startedAt } : { endedAt: next.endedAt }) } });
  await repo.cacheStream(next);
  return streamView(next);
}
