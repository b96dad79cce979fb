import type { Deps } from '../deps';
import { agreementHome } from '../infra/shards';
import { CatalogRepository } from '../catalog/catalog.repository';
import { AgreementsRepository, isCapped } from './agreements.repository';
import { publishAgreementEvent } from './agreement.events';
import { cacheAgreementFor, migratedAgreementId, onBehalfAgreement } from './product-pledge';
import { refundShare } from './agreement.types';

/** An order as its latest state of record gives it (MongoDB), for the cap counters. */
export interface CapOrder { status: string; agreementId?: string; donationFen?: number; donationUnits?: number; quantity: number; refundedQuantity?: number }

const holdsCap = (status: string) => status === 'reserved' || status === 'paid' || status === 'partially_refunded' || status === 'refunded';

/** What an order still holds of its agreement's cap: D and u, less what its refunds returned (the scripts' own arithmetic). */
export function capHeld(o: CapOrder): { fen: number; units: number } {
  if (!holdsCap(o.status) || !o.agreementId) return { fen: 0, units: 0 };
  const d = o.donationFen ?? 0;
  const u = o.donationUnits ?? 0;
  const r = o.refundedQuantity ?? (o.status === 'refunded' ? o.quantity : 0);
  return { fen: d - refundShare(d, o.quantity, 0, r), units: u - refundShare(u, o.quantity, 0, r) };
}

/**
 * Restores the agreements' hot state in the given shards after Redis lost it: each agreement's terms where its
 * products sell, and each capped agreement's used counters exactly as the orders of record hold them.
 */
export async function restoreAgreementState(deps: Deps, shards: Set<number>, productShardsByAgreement: Map<string, Set<number>>, orders: Iterable<CapOrder>): Promise<number> {
  const repo = new AgreementsRepository(deps);
  const used = new Map<string, { fen: number; units: number }>();
  for (const o of orders) {
    const h = capHeld(o);
    if (!h.fen && !h.units) continue;
    const cur = used.get(o.agreementId!) ?? { fen: 0, units: 0 };
    used.set(o.agreementId!, { fen: cur.fen + h.fen, units: cur.units + h.units });
  }
  let n = 0;
  for (const a of await repo.all()) {
    await repo.writeHot(a, productShardsByAgreement.get(a._id) ?? [], shards);
    if (isCapped(a) && shards.has(agreementHome(a.hostId, a.charityId))) {
      const u = used.get(a._id) ?? { fen: 0, units: 0 };
      await repo.setUsed(a, u.fen, u.units);
    }
    n++;
  }
  return n;
}

/**
 * Gives every product that pledged before agreements existed its own uncapped agreement, accepted on the charity's
 * behalf (`migrated: true`), valid from the product's listing for ten years. Idempotent and safe with several
 * instances starting together: the agreement's id is derived from the product's, inserted once, and the product is
 * changed only while it names none.
 */
export async function migrateLegacyPledges(deps: Deps): Promise<number> {
  const catalog = new CatalogRepository(deps);
  const repo = new AgreementsRepository(deps);
  let migrated = 0;
  const names = new Map<string, string>();
  for await (const p of catalog.products.find({})) { // query: products.all
    if (p.pledge.agreementId !== undefined) continue;
    let a = onBehalfAgreement(migratedAgreementId(p._id), p.hostId, p.pledge, p.createdAt);
    let fresh = true;
    try {
      await repo.agreements.insertOne(a);
    } catch (e) {
      if ((e as { code?: number }).code !== 11000) throw e;
      fresh = false;
      a = (await repo.byId(a._id)) ?? a;
    }
    await catalog.products.updateOne({ _id: p._id, 'pledge.agreementId': { $exists: false } }, { $set: { 'pledge.agreementId': a._id } }); // query: products.byId
    await cacheAgreementFor(deps, a, p._id);
    if (!names.has(p.pledge.charityId)) names.set(p.pledge.charityId, (await catalog.charityNames([p.pledge.charityId])).get(p.pledge.charityId) ?? '');
    const now = await catalog.products.findOne({ _id: p._id }); // query: products.byId
    if (now) await catalog.cacheProductTerms(now, names.get(p.pledge.charityId)!);
    if (fresh) { migrated++; await publishAgreementEvent(deps, 'agreement.accepted', a); }
  }
  if (migrated) deps.logger.info({ migrated }, 'products that pledged before agreements were given agreements accepted on the charity\'s behalf');
  return migrated;
}
