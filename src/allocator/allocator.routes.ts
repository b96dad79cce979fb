import type { Api } from '../infra/http';
import { requireOwner } from '../infra/http';
import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import * as S from './allocator.schemas';
import { createMatch, getMatch } from './create-match';
import { LedgerRepository } from './ledger.repository';
import { assertTotalsReady, readStreamTotals } from './totals.read';

export function allocatorRoutes(api: Api, deps: Deps): void {
  const tag = 'allocation';

  api.route({
    method: 'get', path: '/api/v1/charities/:id/ledger', tag, summary: "A charity's hash-chained ledger, page by page (that charity, operator)",
    auth: ['charity', 'operator'], params: S.IdParams, query: S.LedgerQuery, responses: { 200: { description: 'entries in seq order', schema: S.LedgerPage } },
  }, async ({ params, query, principal }) => {
    requireOwner(principal, 'charity', params.id);
    const rows = await new LedgerRepository(deps).page(params.id, query.after, query.limit + 1);
    // every hashed field goes out, so the charity can recompute each hash itself
    const entries = rows.slice(0, query.limit).map(({ key: _k, ...e }) => e);
    return { status: 200, body: { entries, next: rows.length > query.limit ? entries[entries.length - 1].seq : null } };
  });

  api.route({
    method: 'post', path: '/api/v1/matches', tag, summary: 'A sponsor pledges matching funds for a stream and a charity, up to a cap (operator)',
    auth: ['operator'], body: S.CreateMatchBody, responses: { 201: { description: 'created, with its budget', schema: S.Match } }, errors: [404],
  }, async ({ body }) => ({ status: 201, body: await createMatch(deps, body) }));

  api.route({
    method: 'get', path: '/api/v1/matches/:id', tag, summary: 'A sponsor match and the budget it has left (operator)',
    auth: ['operator'], params: S.IdParams, responses: { 200: { description: 'the match', schema: S.Match } }, errors: [404],
  }, async ({ params }) => ({ status: 200, body: await getMatch(deps, params.id) }));

  api.route({
    method: 'get', path: '/api/v1/streams/:id/totals', tag, summary: "A stream's running totals: sales, donations, matches, by charity and product",
    auth: 'public', params: S.IdParams, responses: { 200: { description: 'the totals', schema: S.StreamTotalsView } }, errors: [404],
  }, async ({ params }) => {
    await assertTotalsReady(deps, params.id);
    const totals = await readStreamTotals(deps, params.id);
    if (!totals) throw new DomainError('NOT_FOUND', 'no such stream');
    return { status: 200, body: totals };
  });
}
