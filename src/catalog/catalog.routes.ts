import type { Api } from '../infra/http';
import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { rateLimit, byAddress } from '../infra/rate-limit';
import * as S from './catalog.schemas';
import { CatalogRepository } from './catalog.repository';
import { createProduct, editProduct, newId, ownedProduct, pinProducts, productView, registerCharity, setCharityActive, setStreamStatus, streamView } from './catalog.service';

export function catalogRoutes(api: Api, deps: Deps): void {
  const repo = () => new CatalogRepository(deps);
  const tag = 'catalog';

  api.route({ method: 'post', path: '/api/v1/charities', tag, summary: 'Register a charity (operator); its token is shown once', auth: ['operator'], body: S.CreateCharityBody, responses: { 201: { description: 'created', schema: S.CharityWithToken } }, errors: [409] },
    async ({ body }) => ({ status: 201, body: await registerCharity(deps, body) }));

  api.route({ method: 'patch', path: '/api/v1/charities/:id', tag, summary: 'Activate or deactivate a charity (operator)', auth: ['operator'], params: S.IdParams, body: S.PatchCharityBody, responses: { 200: { description: 'updated', schema: S.Charity } }, errors: [404] },
    async ({ params, body }) => ({ status: 200, body: await setCharityActive(deps, params.id, body.active) }));

  api.route({ method: 'post', path: '/api/v1/hosts', tag, summary: 'Register a host (operator); its token is shown once', auth: ['operator'], body: S.CreateHostBody, responses: { 201: { description: 'created', schema: S.HostWithToken } } },
    async ({ body }) => {
      const doc = { _id: newId('h'), name: body.name, createdAt: new Date() };
      await repo().hosts.insertOne(doc);
      return { status: 201, body: { id: doc._id, name: doc.name, token: await deps.tokens.issue('host', doc._id) } };
    });

  api.route({ method: 'post', path: '/api/v1/viewers', tag, summary: 'Sign up as a viewer (rate limited per address); the token is shown once', auth: 'public', body: S.CreateViewerBody, responses: { 201: { description: 'created', schema: S.ViewerWithToken } },
    before: [rateLimit(deps, 'signup', deps.config.rateLimits.signupsPerMinute, 60, (req) => [byAddress(req)])] },
    async ({ body }) => {
      const doc = { _id: newId('v'), nickname: body.nickname, createdAt: new Date() };
      await repo().viewers.insertOne(doc);
      await repo().cacheViewer(doc._id, doc.nickname).catch(() => undefined);
      return { status: 201, body: { id: doc._id, nickname: doc.nickname, token: await deps.tokens.issue('viewer', doc._id) } };
    });

  api.route({ method: 'post', path: '/api/v1/products', tag, summary: 'List a product with a per-unit pledge to a charity (host)', auth: ['host'], body: S.CreateProductBody, responses: { 201: { description: 'created', schema: S.Product } }, errors: [409] },
    async ({ body, principal }) => ({ status: 201, body: await createProduct(deps, principal!.id, body) }));

  api.route({ method: 'get', path: '/api/v1/products/:id', tag, summary: 'A product with its remaining stock (its host, operator)', auth: ['host', 'operator'], params: S.IdParams, responses: { 200: { description: 'the product', schema: S.Product } }, errors: [404] },
    async ({ params, principal }) => {
      const r = repo();
      const p = await ownedProduct(r, principal!, params.id);
      const names = await r.charityNames([p.pledge.charityId]);
      return { status: 200, body: productView(p, names.get(p.pledge.charityId) ?? '', (await r.remaining([p._id])).get(p._id) ?? 0) };
    });

  api.route({ method: 'patch', path: '/api/v1/products/:id', tag, summary: 'Edit a product; affects later orders only (its host)', auth: ['host', 'operator'], params: S.IdParams, body: S.PatchProductBody, responses: { 200: { description: 'updated', schema: S.Product } }, errors: [404, 409] },
    async ({ params, body, principal }) => ({ status: 200, body: await editProduct(deps, principal!, params.id, body) }));

  api.route({ method: 'post', path: '/api/v1/streams', tag, summary: 'Create a live stream (host)', auth: ['host'], body: S.CreateStreamBody, responses: { 201: { description: 'created', schema: S.Stream } } },
    async ({ body, principal }) => {
      const doc = { _id: newId('s'), hostId: principal!.id, title: body.title, status: 'scheduled' as const, goalFen: body.goalFen ?? 0, productIds: [], createdAt: new Date(),
        ...(body.paymentWindowSeconds ? { paymentWindowSeconds: body.paymentWindowSeconds } : {}) };
      await repo().streams.insertOne(doc);
      await repo().cacheStream(doc);
      return { status: 201, body: streamView(doc) };
    });

  api.route({ method: 'put', path: '/api/v1/streams/:id/products', tag, summary: 'Pin the host\'s own products on a stream', auth: ['host', 'operator'], params: S.IdParams, body: S.PinBody, responses: { 200: { description: 'the stream', schema: S.Stream } }, errors: [404, 409] },
    async ({ params, body, principal }) => ({ status: 200, body: await pinProducts(deps, principal!, params.id, body.productIds) }));

  for (const [verb, to] of [['start', 'live'], ['end', 'ended']] as const) {
    api.route({ method: 'post', path: `/api/v1/streams/:id/${verb}`, tag, summary: `${verb === 'start' ? 'Start' : 'End'} a stream (its host)`, auth: ['host', 'operator'], params: S.IdParams, responses: { 200: { description: 'the stream', schema: S.Stream } }, errors: [404, 409] },
      async ({ params, principal }) => ({ status: 200, body: await setStreamStatus(deps, principal!, params.id, to) }));
  }

  api.route({ method: 'get', path: '/api/v1/streams/:id', tag, summary: 'A stream and its pinned products (public)', auth: 'public', params: S.IdParams, responses: { 200: { description: 'the stream', schema: S.PublicStream } }, errors: [404] },
    async ({ params }) => {
      const r = repo();
      const s = await r.streams.findOne({ _id: params.id });
      if (!s) throw new DomainError('NOT_FOUND', 'no such stream');
      const products = s.productIds.length ? await r.products.find({ _id: { $in: s.productIds } }).toArray() : [];
      const [names, remaining] = await Promise.all([r.charityNames(products.map((p) => p.pledge.charityId)), r.remaining(products.map((p) => p._id))]);
      const ordered = s.productIds.map((id) => products.find((p) => p._id === id)).filter((p) => p !== undefined);
      return {
        status: 200,
        body: {
          id: s._id, title: s.title, status: s.status, goalFen: s.goalFen,
          products: ordered.map((p) => ({ id: p._id, name: p.name, origin: p.origin, unit: p.unit, priceFen: p.priceFen, remaining: remaining.get(p._id) ?? 0, pledge: { charityId: p.pledge.charityId, charityName: names.get(p.pledge.charityId) ?? '', perUnitFen: p.pledge.perUnitFen, agreementId: p.pledge.agreementId ?? null } })),
        },
      };
    });
}
