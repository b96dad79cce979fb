import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Express } from 'express';
import type { Api } from '../infra/http';
import { requireOwner } from '../infra/http';
import { DomainError } from '../infra/errors';
import type { Deps } from '../deps';
import { lookupNames } from '../catalog';
import * as S from './statements.schemas';
import { buildStatement, checkPeriod } from './build-statement';
import { renderCsv } from './render-csv';
import { renderPdf } from './render-pdf';
import { getReceipt, publicCharity } from './public-views';
import { StatementsRepository } from './statements.repository';
import { charityPage } from './charity-page';
import { publicAgreements } from './public-agreements';

export function statementsRoutes(api: Api, deps: Deps): void {
  const tag = 'statements';

  api.route({
    method: 'get', path: '/api/v1/charities/:id/statements', tag, auth: ['charity', 'operator'], params: S.CharityParams, query: S.StatementQuery, errors: [404],
    summary: 'A charity\'s statement for [from, to) as JSON, CSV (the entries) or PDF (that charity, operator); the same request gives the same bytes',
    responses: { 200: { description: 'the statement', schema: S.StatementBody } },
  }, async ({ params, query, principal, res }) => {
    requireOwner(principal, 'charity', params.id);
    const period = checkPeriod(query.from, query.to);
    if (!(await lookupNames(deps, { charityIds: [params.id] })).charities.has(params.id)) throw new DomainError('NOT_FOUND', 'no such charity');
    const name = `statement-${params.id}-${period.from.toISOString().slice(0, 10)}-${period.to.toISOString().slice(0, 10)}`;
    if (query.format === 'json') return { status: 200, body: await buildStatement(deps, params.id, period) };
    if (query.format === 'csv') {
      res.status(200).setHeader('Content-Type', 'text/csv; charset=utf-8').setHeader('Content-Disposition', `attachment; filename="${name}.csv"`);
      // a few chunks buffered ahead of the socket, no more: what waits on a slow client is promoted and piles up in the old generation
      await pipeline(Readable.from(renderCsv((visit) => new StatementsRepository(deps).daysBetween(params.id, period.from, period.to, visit)), { highWaterMark: 4 }), res);
      return undefined;
    }
    const statement = await buildStatement(deps, params.id, period);
    res.status(200).setHeader('Content-Type', 'application/pdf').setHeader('Content-Disposition', `attachment; filename="${name}.pdf"`);
    await renderPdf(statement, res);
    return undefined;
  });

  documentOtherFormats(api);

  api.route({
    method: 'get', path: '/api/v1/charities/:id/chain', tag, auth: ['charity', 'operator'], params: S.CharityParams, errors: [404],
    summary: 'The whole hash chain as NDJSON, one entry with every hashed field per line, in seq order, in one pass (that charity, operator): what `livegive verify` recomputes',
    responses: { 200: { description: 'one JSON entry per line', contentType: 'application/x-ndjson', schema: S.ChainLine } },
  }, async ({ params, principal, res }) => {
    requireOwner(principal, 'charity', params.id);
    if (!(await lookupNames(deps, { charityIds: [params.id] })).charities.has(params.id)) throw new DomainError('NOT_FOUND', 'no such charity');
    res.status(200).setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    await pipeline(Readable.from(ndjson(new StatementsRepository(deps).blocksAfter(params.id, 0)), { highWaterMark: 4 }), res);
    return undefined;
  });

  api.route({
    method: 'get', path: '/api/v1/public/charities/:id', tag, auth: 'public', params: S.CharityParams, query: S.PublicHeadQuery, errors: [404],
    summary: 'A charity\'s public total, entry count, chain head and Merkle root, with its latest entries (no buyer data)',
    responses: { 200: { description: 'the published head', schema: S.PublicCharity } },
  }, async ({ params, query }) => ({ status: 200, body: await publicCharity(deps, params.id, query.seq) }));

  api.route({
    method: 'get', path: '/api/v1/public/charities/:id/agreements', tag, auth: 'public', params: S.CharityParams, errors: [404],
    summary: 'A charity\'s pledge agreements: terms, the four layers (pledged, confirmed, remitted, acknowledged), overdue, remittances and the charity\'s answers',
    responses: { 200: { description: 'the agreements', schema: S.PublicAgreements } },
  }, async ({ params }) => ({ status: 200, body: await publicAgreements(deps, params.id) }));

  api.route({
    method: 'get', path: '/api/v1/public/receipts/:orderId', tag, auth: 'public', params: S.OrderParams, errors: [404],
    summary: 'A buyer\'s receipt: the donation earmarked, its status, and its ledger entries with proofs against the published head',
    responses: { 200: { description: 'the receipt', schema: S.ReceiptBody } },
  }, async ({ params }) => ({ status: 200, body: await getReceipt(deps, params.orderId) }));
}

/** The statement's 200 also comes as CSV and PDF (format=csv|pdf): add those content types to its documented answer. */
function documentOtherFormats(api: Api): void {
  for (const d of api.registry.definitions) {
    if (d.type !== 'route' || d.route.method !== 'get' || d.route.path !== '/api/v1/charities/{id}/statements') continue;
    const ok = d.route.responses['200'] as { content?: Record<string, { schema: unknown }> };
    Object.assign(ok.content ?? {}, {
      'text/csv': { schema: { type: 'string', description: 'format=csv: the period\'s entries, one per line, UTF-8 with BOM' } },
      'application/pdf': { schema: { type: 'string', format: 'binary', description: 'format=pdf: the printable bilingual statement' } },
    });
  }
}

/** One JSON entry a line, a block's lines in one write (not one per entry: those waiting on the socket fill V8's old generation). */
async function* ndjson(blocks: AsyncIterable<unknown[]>): AsyncIterable<string> {
  for await (const b of blocks) yield b.map((e) => JSON.stringify(e) + '\n').join('');
}

/** The public page /charities/:id (server-rendered HTML, no script). */
export function mountCharityPage(app: Express, deps: Deps): void {
  app.get('/charities/:id', async (req, res, next) => {
    try {
      const id = String(req.params.id);
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new DomainError('NOT_FOUND', 'no such charity');
      const [view, agreements] = await Promise.all([publicCharity(deps, id), publicAgreements(deps, id)]);
      res.status(200).type('html').setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'").send(charityPage(view, agreements));
    } catch (err) {
      next(err);
    }
  });
}
