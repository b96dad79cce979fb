import type { Deps } from '../deps';
import type { Principal } from '../infra/auth';
import type { z } from '../infra/zod';
import { DomainError } from '../infra/errors';
import { agreementHome, idInShard, shardOf } from '../infra/shards';
import { CatalogRepository } from '../catalog/catalog.repository';
import { lookupNames } from '../catalog';
import { agreementLayers } from './layers';
import { AgreementsRepository, isCapped } from './agreements.repository';
import { publishAgreementEvent } from './agreement.events';
import type { AgreementDoc, AgreementStatus } from './agreement.types';
import type { ProposeAgreementBody } from './agreements.schemas';

const bad = (field: string, message: string, what = 'invalid agreement') => new DomainError('VALIDATION_FAILED', what, [{ field, message }]);

export function agreementView(a: AgreementDoc, used?: { usedFen: number; usedUnits: number }) {
  return {
    id: a._id, hostId: a.hostId, charityId: a.charityId, perUnitFen: a.perUnitFen, capFen: a.capFen, capUnits: a.capUnits, onCap: a.onCap,
    productIds: a.productIds, streamIds: a.streamIds, validFrom: a.validFrom.toISOString(), validTo: a.validTo.toISOString(),
    remitWithinDays: a.remitWithinDays, status: a.status, migrated: a.migrated, createdAt: a.createdAt.toISOString(),
    ...(a.acceptedAt ? { acceptedAt: a.acceptedAt.toISOString() } : {}), ...(a.declinedAt ? { declinedAt: a.declinedAt.toISOString() } : {}),
    ...(a.suspendedAt ? { suspendedAt: a.suspendedAt.toISOString() } : {}),
    ...(used ? { capUsedFen: used.usedFen, capUsedUnits: used.usedUnits } : {}),
  };
}

/** Whether two agreements of one host and charity could both cover one product in one stream at one time (absent lists: any). */
function overlaps(a: Pick<AgreementDoc, 'productIds' | 'streamIds' | 'validFrom' | 'validTo'>, b: typeof a): boolean {
  const meet = (x: string[] | null, y: string[] | null) => !x || !y || x.some((id) => y.includes(id));
  return meet(a.productIds, b.productIds) && meet(a.streamIds, b.streamIds) && a.validFrom < b.validTo && b.validFrom < a.validTo;
}

/** A host proposes a pledge agreement to an active charity, for its own products and streams; the charity accepts or declines it. */
export async function proposeAgreement(deps: Deps, hostId: string, input: z.infer<typeof ProposeAgreementBody>) {
  const catalog = new CatalogRepository(deps);
  const charity = await catalog.charities.findOne({ _id: input.charityId }); // query: charities.byId
  if (!charity) throw bad('body.charityId', 'no such charity');
  if (!charity.active) throw new DomainError('CHARITY_INACTIVE', 'this charity is not active');
  const productIds = input.productIds ? [...new Set(input.productIds)] : null;
  const streamIds = input.streamIds ? [...new Set(input.streamIds)] : null;
  const capped = input.capFen !== undefined || input.capUnits !== undefined;
  if (productIds) {
    const found = await catalog.products.find({ _id: { $in: productIds } }).toArray(); // query: products.byIds
    for (const id of productIds) {
      const p = found.find((f) => f._id === id);
      if (!p || p.hostId !== hostId) throw bad('body.productIds', `unknown product ${id}`, 'only your own products can be covered');
      if (p.pledge.charityId !== input.charityId) throw bad('body.productIds', `product ${id} pledges to another charity`);
      if (input.perUnitFen > p.priceFen) throw bad('body.perUnitFen', `must not exceed the price of product ${id} (${p.priceFen} fen)`);
      if (capped && shardOf(id) !== agreementHome(hostId, input.charityId)) throw shardRefusal(id);
    }
  }
  if (streamIds) {
    const found = await catalog.streams.find({ _id: { $in: streamIds } }, { projection: { hostId: 1 } }).toArray(); // query: streams.byIds
    const unknown = streamIds.filter((id) => !found.some((s) => s._id === id && s.hostId === hostId));
    if (unknown.length) throw new DomainError('VALIDATION_FAILED', 'only your own streams can be covered', unknown.map((id) => ({ field: 'body.streamIds', message: `unknown stream ${id}` })));
  }
  const now = new Date();
  const doc: AgreementDoc = {
    _id: idInShard('ag', agreementHome(hostId, input.charityId)), hostId, charityId: input.charityId, perUnitFen: input.perUnitFen,
    capFen: input.capFen ?? null, capUnits: input.capUnits ?? null, onCap: input.onCap, productIds, streamIds,
    validFrom: new Date(input.validFrom), validTo: new Date(input.validTo), remitWithinDays: input.remitWithinDays,
    status: 'proposed', migrated: false, createdAt: now, updatedAt: now,
  };
  const repo = new AgreementsRepository(deps);
  // one proposal per host and charity at a time, so two overlapping ones sent together cannot both pass the check
  const created = await repo.withLock(`propose:${hostId}|${input.charityId}`, async () => {
    const clash = (await repo.ofHostAndCharity(hostId, input.charityId)).find((o) => !o.migrated && (o.status === 'proposed' || o.status === 'accepted') && overlaps(o, doc));
    if (clash) throw new DomainError('AGREEMENT_OVERLAP', `agreement ${clash._id} (${clash.status}) already covers these products and streams in this period`, { agreementId: clash._id });
    await repo.agreements.insertOne(doc);
    return doc;
  });
  if (!created) throw new DomainError('CONFLICT', 'another proposal to this charity is being recorded; please retry');
  await repo.writeHot(doc);
  await publishAgreementEvent(deps, 'agreement.proposed', doc);
  return agreementView(doc, capped ? { usedFen: 0, usedUnits: 0 } : undefined);
}

export function shardRefusal(productId: string): DomainError {
  return new DomainError('AGREEMENT_SHARD', `product ${productId} was listed before capped agreements existed and cannot join one; list it anew (POST /api/v1/products) with pledge.agreementId`, { productId });
}

const steps = { accept: { from: 'proposed', to: 'accepted' }, decline: { from: 'proposed', to: 'declined' }, suspend: { from: 'accepted', to: 'suspended' } } as const;
const eventOf = { accepted: 'agreement.accepted', declined: 'agreement.declined', suspended: 'agreement.suspended' } as const;

/**
 * The named charity accepts or declines a proposal, or suspends an accepted agreement. Its hot copies change in every
 * shard that sells under it, so a suspension stops new orders at once on every API instance (orders placed keep theirs).
 */
export async function changeAgreement(deps: Deps, principal: Principal, id: string, verb: keyof typeof steps) {
  const repo = new AgreementsRepository(deps);
  const a = await repo.byId(id);
  // another charity does not learn that the agreement exists
  if (!a || principal.role !== 'charity' || a.charityId !== principal.id) throw new DomainError('NOT_FOUND', 'no such agreement');
  const step = steps[verb];
  const next = await repo.withLock(`step:${id}`, async () => {
    const cur = await repo.byId(id);
    if (cur?.status !== step.from) throw new DomainError('INVALID_STATE', `a ${cur?.status} agreement cannot be ${verb === 'accept' ? 'accepted' : `${verb}d`}`, { status: cur?.status });
    const after = await repo.setStatus(id, step.from, step.to, new Date());
    if (!after) throw new DomainError('INVALID_STATE', 'the agreement changed meanwhile; read it again');
    await repo.writeHot(after, await productShards(deps, after));
    return after;
  });
  if (!next) throw new DomainError('INVALID_STATE', 'the agreement is being changed by another request; read it again');
  await publishAgreementEvent(deps, eventOf[step.to], next);
  return agreementView(next, isCapped(next) ? await repo.used(next) : undefined);
}

/** The shards of the products whose pledge names the agreement (an uncapped one may have products outside its home). */
export async function productShards(deps: Deps, a: AgreementDoc): Promise<number[]> {
  const products = await new CatalogRepository(deps).productsOfAgreement(a.hostId, a._id);
  return [...new Set(products.map((p) => shardOf(p._id)))];
}

/** The agreements a principal may see (a host's own, a charity's own, all for the operator), with their four layers. */
export async function listAgreements(deps: Deps, principal: Principal, status?: AgreementStatus) {
  const repo = new AgreementsRepository(deps);
  const list = principal.role === 'host' ? await repo.ofHost(principal.id, status)
    : principal.role === 'charity' ? await repo.ofCharity(principal.id, status)
      : await repo.all(status);
  list.sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime() || x._id.localeCompare(y._id));
  const layers = await agreementLayers(deps, list.map((a) => a._id));
  const [used, names] = await Promise.all([
    Promise.all(list.map((a) => (isCapped(a) ? repo.used(a) : undefined))),
    // the consoles name the other party: a charity answering a proposal sees which host asks
    lookupNames(deps, { hostIds: list.map((a) => a.hostId), charityIds: list.map((a) => a.charityId) }),
  ]);
  return { agreements: list.map((a, i) => ({ ...agreementView(a, used[i]), hostName: names.hosts.get(a.hostId)?.name ?? '', charityName: names.charities.get(a.charityId)?.name ?? '', ...layers.get(a._id)! })) };
}
