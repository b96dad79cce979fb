import request from 'supertest';
import type { Collection } from 'mongodb';
import { startService, TestService, bearer, admin } from '../helpers/app';
import { seedWorld, World } from '../helpers/fixtures';
import { chainEntries } from '../../src/allocator/chain';
import { appendEntries } from '../../src/allocator';
import { GENESIS, LedgerEntry } from '../../src/allocator/ledger.types';

type Doc = Omit<LedgerEntry, 'key' | 'at'> & { _id: string; at: Date };

/**
 * The read routes the consoles added: they refuse bad input with 422 and change nothing, answer only their
 * owner, and the verify route really recomputes the chain (a changed entry is named, a statement compared).
 */
describe('console read routes', () => {
  let svc: TestService;
  let w: World;
  let ledger: Collection<Doc>;
  let chain: LedgerEntry[];
  const from = '2026-11-01T00:00:00.000Z';
  const to = '2026-11-02T00:00:00.000Z';

  beforeAll(async () => {
    svc = await startService('api');
    w = await seedWorld(svc.url);
    chain = chainEntries(GENESIS, Array.from({ length: 12 }, (_, i) => ({
      key: `ev${i}:${i === 5 ? 'reversal' : 'allocation'}`, charityId: w.charity.id, kind: i === 5 ? 'reversal' as const : 'allocation' as const,
      amountFen: i === 5 ? -200 : 200 + i, salesFen: 4990, quantity: i === 5 ? -1 : 1, orderId: i === 5 ? 'o4' : `o${i}`, streamId: w.stream.id, productId: w.product.id,
      hostId: w.host.id, eventId: `ev${i}`, matchId: null, at: new Date(Date.parse('2026-10-31T20:00:00.000Z') + i * 3_600_000).toISOString(),
    })));
    ledger = svc.deps.db.collection<Doc>('ledger');
    // as the allocator writes them: entries, then the derived blocks, periods and head the reads use
    await appendEntries(svc.deps, chain);
  });
  afterAll(async () => { await svc?.stop(); });

  const get = (path: string, token: string) => request(svc.url).get(path).set(bearer(token));

  it('when the pages are fetched, then they come with a strict CSP and hold no inline script or style', async () => {
    for (const path of ['/console/host', '/console/charity', `/overlay/${w.stream.id}`]) {
      const r = await request(svc.url).get(path).expect(200);
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(r.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|<style|https?:\/\//);
    }
    expect(String((await request(svc.url).get('/console/host')).headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect((await request(svc.url).get('/static/console/host.js').expect(200)).headers['content-type']).toMatch(/javascript/);
  });

  it('when a token asks who it is, then it gets its role, id and name', async () => {
    expect((await get('/api/v1/me', w.host.token).expect(200)).body).toEqual({ role: 'host', id: w.host.id, name: '县长主播' });
    expect((await get('/api/v1/me', w.charity.token).expect(200)).body).toEqual({ role: 'charity', id: w.charity.id, name: w.charity.name });
    expect((await request(svc.url).get('/api/v1/me').set(admin).expect(200)).body.role).toBe('operator');
    expect((await request(svc.url).get('/api/v1/me').expect(401)).body.error.code).toBe('UNAUTHENTICATED');
  });

  it('when the host lists its streams and products, then it sees them with stock left and times in ISO UTC', async () => {
    const s = (await get(`/api/v1/hosts/${w.host.id}/streams`, w.host.token).expect(200)).body.streams;
    expect(s).toEqual([expect.objectContaining({ id: w.stream.id, status: 'live', productIds: [w.product.id], startedAt: expect.stringMatching(/Z$/), endedAt: null })]);
    const p = (await get(`/api/v1/hosts/${w.host.id}/products`, w.host.token).expect(200)).body.products;
    expect(p).toEqual([expect.objectContaining({ id: w.product.id, stock: 1000, remaining: 1000, pledge: { charityId: w.charity.id, charityName: w.charity.name, perUnitFen: 200 } })]);
    const r = (await get(`/api/v1/streams/${w.stream.id}/reservations`, w.host.token).expect(200)).body;
    expect(r).toEqual({ streamId: w.stream.id, open: 0, units: 0, expiring: [] });
  });

  it('when ids or periods are malformed, then the answer is 422 VALIDATION_FAILED naming the field', async () => {
    const bad = async (path: string, field: string) => {
      const r = await get(path, w.charity.token).expect(422);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
      expect(r.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    };
    await bad(`/api/v1/charities/${w.charity.id}/verify?from=${from}`, 'query.to');
    await bad(`/api/v1/charities/${w.charity.id}/verify?from=${to}&to=${from}`, 'query.from');
    await bad(`/api/v1/charities/${w.charity.id}/verify?from=yesterday&to=${to}`, 'query.from');
    await bad(`/api/v1/charities/${w.charity.id}/verify?extra=1`, 'query');
    await bad(`/api/v1/charities/${w.charity.id}/ledger/orders/${encodeURIComponent('{"$gt":""}')}`, 'params.orderId');
    const h = await get(`/api/v1/hosts/${encodeURIComponent('a b')}/streams`, w.host.token).expect(422);
    expect(h.body.error.details[0].field).toBe('params.id');
    expect((await get(`/api/v1/charities/c_nobody/verify`, w.charity.token).expect(403)).body.error.code).toBe('FORBIDDEN');
  });

  it('when the charity searches its ledger by order, then it gets that order\'s entries only, in seq order', async () => {
    const r = (await get(`/api/v1/charities/${w.charity.id}/ledger/orders/o4`, w.charity.token).expect(200)).body;
    expect(r.entries.map((e: { seq: number; kind: string }) => [e.seq, e.kind])).toEqual([[5, 'allocation'], [6, 'reversal']]);
    expect((await get(`/api/v1/charities/${w.charity.id}/ledger/orders/o_none`, w.charity.token).expect(200)).body.entries).toEqual([]);
  });

  it('when nothing was altered, then verify answers ok, with the period\'s statement compared', async () => {
    const r = (await get(`/api/v1/charities/${w.charity.id}/verify?from=${from}&to=${to}`, w.charity.token).expect(200)).body;
    expect(r).toMatchObject({ ok: true, entries: 12, headSeq: 12, headHash: chain[11].hash, problems: [] });
    const inPeriod = chain.filter((e) => e.at >= from && e.at < to);
    const before = chain.filter((e) => e.at < from);
    expect(r.period).toEqual({ from, to, openingFen: before.reduce((a, e) => a + e.amountFen, 0), closingFen: [...before, ...inPeriod].reduce((a, e) => a + e.amountFen, 0), entries: inPeriod.length });
    expect(r.totalFen).toBe(chain.reduce((a, e) => a + e.amountFen, 0));
  });

  it('when an entry\'s amount is changed in MongoDB, then verify answers ok=false naming that entry, and ok again once restored', async () => {
    await ledger.updateOne({ _id: chain[6].key }, { $set: { amountFen: 99_999 } });
    try {
      const r = (await get(`/api/v1/charities/${w.charity.id}/verify`, w.charity.token).expect(200)).body;
      expect(r.ok).toBe(false);
      expect(r.problems).toContain('entry #7 does not hash to its stored hash: one of its fields (amount, order, time…) was changed');
      expect(r.entries).toBe(12); // the whole stored chain was read, past the altered entry
      expect(r.problems.some((p: string) => p.startsWith('published'))).toBe(true);
    } finally {
      await ledger.updateOne({ _id: chain[6].key }, { $set: { amountFen: chain[6].amountFen } });
    }
    expect((await get(`/api/v1/charities/${w.charity.id}/verify`, w.charity.token).expect(200)).body.ok).toBe(true);
  });
});
