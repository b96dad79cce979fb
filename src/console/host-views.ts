import type { Deps } from '../deps';
import type { Principal } from '../infra/auth';
import { DomainError } from '../infra/errors';
import { CatalogRepository } from '../catalog';
import { latestOrderStates } from '../orders';

const iso = (d?: Date) => (d ? d.toISOString() : null);

/** Only the host itself (or the operator) reads a host's lists; another host gets 404, as for its streams. */
export function assertHostReader(principal: Principal, hostId: string): void {
  if (principal.role === 'operator' || (principal.role === 'host' && principal.id === hostId)) return;
  throw new DomainError('NOT_FOUND', 'no such host');
}

/** Who the bearer is, with a display name: the console greets its user and finds its own lists. */
export async function whoAmI(deps: Deps, p: Principal): Promise<{ role: Principal['role']; id: string; name: string }> {
  const r = new CatalogRepository(deps);
  // each lookup is by _id (the primary key)
  const doc = p.role === 'host' ? await r.hosts.findOne({ _id: p.id }) : p.role === 'charity' ? await r.charities.findOne({ _id: p.id }) : null;
  const viewer = p.role === 'viewer' ? await r.viewers.findOne({ _id: p.id }) : null;
  return { role: p.role, id: p.id, name: doc?.name ?? viewer?.nickname ?? (p.role === 'operator' ? '平台运营' : '') };
}

/** A host's streams, newest first. */
export async function hostStreams(deps: Deps, hostId: string) {
  // index streams {hostId: 1}
  const docs = await new CatalogRepository(deps).streams.find({ hostId }).toArray();
  docs.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  return docs.map((s) => ({
    id: s._id, hostId: s.hostId, title: s.title, status: s.status, goalFen: s.goalFen, productIds: s.productIds,
    createdAt: s.createdAt.toISOString(), startedAt: iso(s.startedAt), endedAt: iso(s.endedAt),
  }));
}

/** A host's products with the stock left now (Redis) and the charity each pledges to. */
export async function hostProducts(deps: Deps, hostId: string) {
  const r = new CatalogRepository(deps);
  // index products {hostId: 1}
  const docs = await r.products.find({ hostId }).toArray();
  docs.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const [names, remaining] = await Promise.all([r.charityNames(docs.map((p) => p.pledge.charityId)), r.remaining(docs.map((p) => p._id))]);
  return docs.map((p) => ({
    id: p._id, hostId: p.hostId, name: p.name, origin: p.origin, unit: p.unit, priceFen: p.priceFen, stock: p.stock,
    remaining: remaining.get(p._id) ?? 0, buyerLimit: p.buyerLimit,
    pledge: { charityId: p.pledge.charityId, charityName: names.get(p.pledge.charityId) ?? '', perUnitFen: p.pledge.perUnitFen },
  }));
}

/**
 * A stream's open reservations (placed, not yet paid, expired or cancelled), soonest to expire first.
 * Reads the stream's order versions once: it costs what the stream has sold, so the console asks every 10 s.
 */
export async function streamReservations(deps: Deps, principal: Principal, streamId: string) {
  // index streams _id
  const s = await new CatalogRepository(deps).streams.findOne({ _id: streamId }, { projection: { hostId: 1 } });
  if (!s || (principal.role !== 'operator' && s.hostId !== principal.id)) throw new DomainError('NOT_FOUND', 'no such stream');
  // index orders {streamId: 1}
  const latest = await latestOrderStates(deps.db, { streamId });
  const open = [...latest.values()].filter((o) => o.status === 'reserved' && Date.parse(o.expiresAt) > Date.now());
  open.sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  return {
    streamId,
    open: open.length,
    units: open.reduce((n, o) => n + o.quantity, 0),
    expiring: open.slice(0, 20).map((o) => ({ orderId: o.orderId, productId: o.productId, productName: o.productName, quantity: o.quantity, expiresAt: o.expiresAt })),
  };
}
