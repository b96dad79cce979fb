import http from 'node:http';
import pino from 'pino';
import { startService, TestService } from '../helpers/app';
import { ADMIN_TOKEN } from '../helpers/env';
import { uscc } from '../helpers/fixtures';
import { call } from '../../scripts/chaos/http-client';
import { buildApp } from '../../src/app';
import { slices } from '../../src/slices';

/** Hostile text in names, and malformed URLs: refused with the error shape, nothing stored, nothing logged as an error. */
describe('abuse: hostile text and malformed requests', () => {
  let svc: TestService;
  let server: http.Server;
  let url: string;
  const lines: { level: number; msg?: string; err?: { stack?: string }; [k: string]: unknown }[] = [];

  beforeAll(async () => {
    svc = await startService('all');
    // the same app on the same stores, with a logger whose lines the tests read
    const logger = pino({ level: 'trace' }, { write: (s: string) => { lines.push(JSON.parse(s)); } });
    server = http.createServer(buildApp({ ...svc.deps, logger }, slices).app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await svc?.stop();
  });

  const hostile = ['\u202Eevil', 'ok\u2066x', 'a\u0000b', 'line\nbreak', '\u200B\u200B', '\u2060', 'x\u200F'];

  it('when a viewer signs up with a bidi override, a control character or an invisible-only nickname, then it is 422 VALIDATION_FAILED naming body.nickname and no viewer is stored', async () => {
    for (const nickname of hostile) {
      const a = await call<{ error: { code: string; details: { field: string }[] } }>(url, 'POST', '/api/v1/viewers', { body: { nickname } });
      expect([JSON.stringify(nickname), a.status, a.body.error?.code]).toEqual([JSON.stringify(nickname), 422, 'VALIDATION_FAILED']);
      expect(a.body.error.details.map((d) => d.field)).toContain('body.nickname');
    }
    expect(await svc.deps.db.collection('viewers').countDocuments({ nickname: { $in: hostile } })).toBe(0);
  });

  it('when a charity, host, product or stream is named with hostile text, then each is refused naming its field', async () => {
    const host = (await call<{ token: string }>(url, 'POST', '/api/v1/hosts', { token: ADMIN_TOKEN, body: { name: '正常主播' } })).body;
    const charity = (await call<{ id: string }>(url, 'POST', '/api/v1/charities', { token: ADMIN_TOKEN, body: { name: '正常慈善', registrationNo: uscc() } })).body;
    const product = { name: '苹果', origin: '陕西', unit: '箱', priceFen: 5000, stock: 5, pledge: { charityId: charity.id, perUnitFen: 100 } };
    const cases: [string, string, string, unknown, string][] = [
      ['POST', '/api/v1/charities', ADMIN_TOKEN, { name: '慈善\u202E会', registrationNo: uscc() }, 'body.name'],
      ['POST', '/api/v1/hosts', ADMIN_TOKEN, { name: '\u200B' }, 'body.name'],
      ['POST', '/api/v1/products', host.token, { ...product, name: '苹\u2067果' }, 'body.name'],
      ['POST', '/api/v1/products', host.token, { ...product, origin: '陕\u0007西' }, 'body.origin'],
      ['POST', '/api/v1/streams', host.token, { title: '直播\u202D' }, 'body.title'],
    ];
    for (const [method, path, token, body, field] of cases) {
      const a = await call<{ error: { code: string; details: { field: string }[] } }>(url, method, path, { token, body });
      expect([path, a.status, a.body.error?.code, a.body.error?.details?.map((d) => d.field)]).toEqual([path, 422, 'VALIDATION_FAILED', [field]]);
    }
  });

  it('when a name arrives decomposed, then it is stored NFC-normalised', async () => {
    const a = await call<{ id: string; nickname: string }>(url, 'POST', '/api/v1/viewers', { body: { nickname: 'Jose\u0301' } });
    expect(a.status).toBe(201);
    expect(a.body.nickname).toBe('Jos\u00E9');
    expect((await svc.deps.db.collection('viewers').findOne({ _id: a.body.id as never }))?.nickname).toBe('Jos\u00E9');
  });

  it.each([
    ['a public receipt', '/api/v1/public/receipts/%ff'],
    ['a public charity head', '/api/v1/public/charities/%E0%A4%A'],
    ['the public charity page', '/charities/%ff'],
    ['the overlay', '/overlay/%c0%af'],
    ['a stream', '/api/v1/streams/%ff/totals'],
    // the static files fall through to the unknown-route answer
    ['a static file', '/static/overlay/%ff.js', 404, 'NOT_FOUND'],
    ['an order (before authentication)', '/api/v1/orders/%ff'],
  ] as [string, string, number?, string?][])('when %s is asked with a bad percent-escape, then it is a 4xx with the error shape, logged without a stack', async (_what, path, status = 400, code = 'BAD_REQUEST') => {
    lines.length = 0;
    const a = await call<{ error: { code: string; message: string } }>(url, 'GET', path);
    expect(a.status).toBe(status);
    expect(a.body.error.code).toBe(code);
    expect(JSON.stringify(a.body)).not.toMatch(/URIError|at .*\.(ts|js):\d+/);
    await new Promise((r) => setTimeout(r, 50));
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    if (status === 400) expect(lines.some((l) => l.level === 40 && l.msg === 'malformed request')).toBe(true);
    expect(JSON.stringify(lines)).not.toMatch(/"stack"/);
  });

  it('when a body is shorter than its Content-Length says, then it is a 4xx, not a 500', async () => {
    lines.length = 0;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${url}/api/v1/viewers`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '40' } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.write('{"nickname":"x"}');
      // end the request side only: the declared length never arrives
      setTimeout(() => req.socket?.end(), 100);
    });
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});
