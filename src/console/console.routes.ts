import type { Api } from '../infra/http';
import { requireOwner } from '../infra/http';
import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { LedgerRepository } from '../allocator';
import { lookupNames } from '../catalog';
import { checkPeriod } from '../statements/build-statement';
import * as S from './console.schemas';
import { assertHostReader, hostProducts, hostStreams, streamReservations, whoAmI } from './host-views';
import { verifyCharity } from './verify-charity';

/** Read routes the consoles need that no other slice answers; each checks ownership like any other route. */
export function consoleRoutes(api: Api, deps: Deps): void {
  const tag = 'consoles';

  api.route({
    method: 'get', path: '/api/v1/me', tag, auth: ['operator', 'host', 'charity', 'viewer'],
    summary: 'Who the bearer token belongs to: role, id and display name (the consoles sign in with it)',
    responses: { 200: { description: 'the principal', schema: S.Me } },
  }, async ({ principal }) => ({ status: 200, body: await whoAmI(deps, principal!) }));

  api.route({
    method: 'get', path: '/api/v1/hosts/:id/streams', tag, auth: ['host', 'operator'], params: S.IdParams, errors: [404],
    summary: 'A host\'s streams, newest first (that host, operator; another host gets 404)',
    responses: { 200: { description: 'the streams', schema: S.HostStreams } },
  }, async ({ params, principal }) => {
    assertHostReader(principal!, params.id);
    return { status: 200, body: { streams: await hostStreams(deps, params.id) } };
  });

  api.route({
    method: 'get', path: '/api/v1/hosts/:id/products', tag, auth: ['host', 'operator'], params: S.IdParams, errors: [404],
    summary: 'A host\'s products with the stock left now (that host, operator; another host gets 404)',
    responses: { 200: { description: 'the products', schema: S.HostProducts } },
  }, async ({ params, principal }) => {
    assertHostReader(principal!, params.id);
    return { status: 200, body: { products: await hostProducts(deps, params.id) } };
  });

  api.route({
    method: 'get', path: '/api/v1/streams/:id/reservations', tag, auth: ['host', 'operator'], params: S.IdParams, errors: [404],
    summary: 'A stream\'s unpaid reservations and the next to expire (its host, operator)',
    responses: { 200: { description: 'open reservations', schema: S.Reservations } },
  }, async ({ params, principal }) => ({ status: 200, body: await streamReservations(deps, principal!, params.id) }));

  api.route({
    method: 'get', path: '/api/v1/charities/:id/ledger/orders/:orderId', tag, auth: ['charity', 'operator'], params: S.OrderSearchParams, errors: [404],
    summary: 'A charity\'s ledger entries for one order, in seq order (that charity, operator): the ledger searched by order',
    responses: { 200: { description: 'the order\'s entries (empty when the order gave nothing to this charity)', schema: S.OrderEntries } },
  }, async ({ params, principal }) => {
    requireOwner(principal, 'charity', params.id);
    // index ledger {orderId: 1}; the charity filter keeps another charity's entries out
    const docs = await new LedgerRepository(deps).coll.find({ orderId: params.orderId, charityId: params.id }).toArray();
    docs.sort((a, b) => a.seq - b.seq);
    const entries = docs.map((d) => ({ seq: d.seq, kind: d.kind, amountFen: d.amountFen, orderId: d.orderId, streamId: d.streamId, productId: d.productId, hostId: d.hostId, at: d.at.toISOString(), prevHash: d.prevHash, hash: d.hash }));
    return { status: 200, body: { orderId: params.orderId, entries } };
  });

  api.route({
    method: 'get', path: '/api/v1/charities/:id/verify', tag, auth: ['charity', 'operator'], params: S.IdParams, query: S.VerifyQuery, errors: [404],
    summary: 'Runs `livegive verify` on the server, read-only (that charity, operator): chain, Merkle root and total against the published head, and a period\'s statement figure by figure',
    responses: { 200: { description: 'the result; ok is false and problems name each mismatch when something differs', schema: S.VerifyResult } },
  }, async ({ params, query, principal }) => {
    requireOwner(principal, 'charity', params.id);
    if (!(await lookupNames(deps, { charityIds: [params.id] })).charities.has(params.id)) throw new DomainError('NOT_FOUND', 'no such charity');
    if ((query.from === undefined) !== (query.to === undefined)) throw new DomainError('VALIDATION_FAILED', 'invalid period', [{ field: query.from ? 'query.to' : 'query.from', message: 'give both from and to, or neither' }]);
    const period = query.from && query.to ? checkPeriod(query.from, query.to) : undefined;
    return { status: 200, body: await verifyCharity(deps, params.id, period) };
  });
}
