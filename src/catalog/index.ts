import type { Slice } from '../app';
import type { Deps } from '../deps';
import { registerCatalogModels } from './catalog.models';
import { catalogRoutes } from './catalog.routes';
import { CatalogRepository } from './catalog.repository';

export { CatalogRepository } from './catalog.repository';
export type { CharityDoc, HostDoc, ProductDoc, StreamDoc, ViewerDoc } from './catalog.models';
export { isValidUscc, usccCheckChar } from './uscc';

export const catalogSlice: Slice = { name: 'catalog', models: registerCatalogModels, routes: catalogRoutes };

const uniq = (ids?: string[]) => [...new Set(ids ?? [])];

/** Display names for ids of each kind, one batched read per kind (no $lookup needed). */
export async function lookupNames(deps: Deps, ids: { charityIds?: string[]; productIds?: string[]; streamIds?: string[]; hostIds?: string[] }) {
  const r = new CatalogRepository(deps);
  const [charities, products, streams, hosts] = await Promise.all([
    uniq(ids.charityIds).length ? r.charities.find({ _id: { $in: uniq(ids.charityIds) } }).toArray() : [],
    uniq(ids.productIds).length ? r.products.find({ _id: { $in: uniq(ids.productIds) } }).toArray() : [],
    uniq(ids.streamIds).length ? r.streams.find({ _id: { $in: uniq(ids.streamIds) } }).toArray() : [],
    uniq(ids.hostIds).length ? r.hosts.find({ _id: { $in: uniq(ids.hostIds) } }).toArray() : [],
  ]);
  return {
    charities: new Map(charities.map((c) => [c._id, { name: c.name, registrationNo: c.registrationNo }])),
    products: new Map(products.map((p) => [p._id, { name: p.name, unit: p.unit, origin: p.origin }])),
    streams: new Map(streams.map((s) => [s._id, { title: s.title }])),
    hosts: new Map(hosts.map((h) => [h._id, { name: h.name }])),
  };
}
