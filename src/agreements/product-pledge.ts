import { createHash } from 'node:crypto';
import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { agreementHome, idInShard, shardOf } from '../infra/shards';
import { AgreementsRepository, isCapped } from './agreements.repository';
import { publishAgreementEvent } from './agreement.events';
import { shardRefusal } from './agreements.service';
import type { AgreementDoc } from './agreement.types';

export interface PledgeInput { charityId: string; perUnitFen: number; agreementId?: string | null }

const TEN_YEARS_MS = 10 * 365.25 * 86400_000;

/** An uncapped agreement accepted on the charity's behalf, for a product that pledges without naming one (`migrated: true`). */
export function onBehalfAgreement(id: string, hostId: string, pledge: PledgeInput, from: Date): AgreementDoc {
  const now = new Date();
  return {
    _id: id, hostId, charityId: pledge.charityId, perUnitFen: pledge.perUnitFen, capFen: null, capUnits: null, onCap: 'continue_without_donation',
    productIds: null, streamIds: null, validFrom: from, validTo: new Date(from.getTime() + TEN_YEARS_MS), remitWithinDays: 30,
    status: 'accepted', migrated: true, createdAt: now, updatedAt: now, acceptedAt: now,
  };
}

/** The id of the agreement a pre-agreement product receives at migration: the same on every instance, in the product's shard. */
export function migratedAgreementId(productId: string): string {
  for (let n = 0; ; n++) {
    const id = `ag_m${createHash('sha256').update(`${productId}:${n}`).digest('base64url').slice(0, 20)}`;
    if (shardOf(id) === shardOf(productId)) return id;
  }
}

/** The shard a new product's id is drawn in: its agreement's home (one host and charity), where a capped agreement's counters live. */
export const newProductId = (hostId: string, charityId: string) => idInShard('p', agreementHome(hostId, charityId));

/**
 * The agreement a product's pledge sells under. Named: it must be the host's, for the same charity and per-unit
 * amount, list the product if it lists products, and (capped) hold its counters in the product's shard. Not named:
 * the product's current agreement when the terms did not change, else its own agreement accepted on the charity's
 * behalf (LIVEGIVE_PLEDGE_WITHOUT_AGREEMENT=auto_accept) or none (refuse: listed, not sold).
 */
export async function agreementForPledge(deps: Deps, hostId: string, productId: string, pledge: PledgeInput, currentId?: string | null): Promise<AgreementDoc | null> {
  const repo = new AgreementsRepository(deps);
  if (pledge.agreementId) {
    const a = await repo.byId(pledge.agreementId);
    const field = (f: string, message: string) => new DomainError('VALIDATION_FAILED', 'the pledge does not match its agreement', [{ field: `body.pledge.${f}`, message }]);
    if (!a || a.hostId !== hostId) throw field('agreementId', 'no such agreement of yours');
    if (a.charityId !== pledge.charityId) throw field('charityId', 'must be the agreement\'s charity');
    if (a.perUnitFen !== pledge.perUnitFen) throw field('perUnitFen', `must be the agreement's per-unit amount (${a.perUnitFen} fen)`);
    if (a.productIds && !a.productIds.includes(productId)) throw field('agreementId', 'the agreement does not list this product');
    if (isCapped(a) && shardOf(productId) !== agreementHome(a.hostId, a.charityId)) throw shardRefusal(productId);
    return a;
  }
  if (currentId) {
    const cur = await repo.byId(currentId);
    if (cur && cur.charityId === pledge.charityId && cur.perUnitFen === pledge.perUnitFen) return cur;
  }
  if (deps.config.orders.pledgeWithoutAgreement === 'refuse') return null;
  const a = onBehalfAgreement(idInShard('ag', shardOf(productId)), hostId, pledge, new Date());
  await repo.agreements.insertOne(a);
  await publishAgreementEvent(deps, 'agreement.accepted', a);
  return a;
}

/**
 * Writes the agreement's hot copy into the product's shard, before the product's terms name it. A status change
 * landing meanwhile must win: it changed MongoDB before any hot copy, so a second look sees it.
 */
export async function cacheAgreementFor(deps: Deps, a: AgreementDoc, productId: string): Promise<void> {
  const repo = new AgreementsRepository(deps);
  await repo.writeHot(a, [shardOf(productId)]);
  const now = await repo.byId(a._id);
  if (now && now.status !== a.status) await repo.writeHot(now, [shardOf(productId)]);
}
