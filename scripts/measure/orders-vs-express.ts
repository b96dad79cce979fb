// Orders placed per second through POST /api/v1/orders next to a bare express route answering {}, in the
// same run, with the same autocannon settings (closed loop, CONNECTIONS (50) connections, 10 s each). Both servers run as
// separate processes; the service runs with all its roles against the real stack (scripts/stack up first).
// Usage: npx tsx scripts/measure/orders-vs-express.ts [seconds]
import { spawn, ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';

const seconds = Number(process.argv[2] ?? 10);
const admin = 'measure-admin-token-0123456789';
const ns = `measure_${randomBytes(4).toString('hex')}`;
const tsx = ['--import', 'tsx'];
const profile = process.env.PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.PROFILE_DIR] : [];

function startProc(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
}
async function waitUp(url: string) {
  for (let i = 0; i < 200; i++) { try { if ((await fetch(url)).ok) return; } catch { /* not yet */ } await new Promise((r) => setTimeout(r, 100)); }
  throw new Error(`${url} did not come up`);
}
async function post(url: string, body: unknown, token: string) {
  const r = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<Record<string, string>>;
}
function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => autocannon({ connections: Number(process.env.CONNECTIONS ?? 50), duration: seconds, ...opts }, (err, res) => (err ? reject(err) : resolve(res))));
}

async function main() {
  const bare = startProc([...tsx, 'scripts/bench/bare-express.ts'], { PORT: '18081' });
  const svc = startProc([...profile, ...tsx, 'src/main.ts', '--role', 'all'], { PORT: '18080', HOST: '127.0.0.1', LIVEGIVE_ADMIN_TOKEN: admin, LIVEGIVE_PAYMENT_SECRET: 'measure-payment-secret-0123456789', LIVEGIVE_NAMESPACE: ns, LIVEGIVE_RATE_LIMITS: 'off', LIVEGIVE_LOG_LEVEL: 'warn' });
  try {
    await waitUp('http://127.0.0.1:18081/healthz');
    await waitUp('http://127.0.0.1:18080/readyz');
    const base = 'http://127.0.0.1:18080/api/v1';
    const body = `53110000${Date.now() % 1e6}`.padEnd(17, '0').slice(0, 17);
    const { usccCheckChar } = await import('../../src/catalog/uscc');
    const charity = await post(`${base}/charities`, { name: '测量基金会', registrationNo: body + usccCheckChar(body) }, admin);
    const host = await post(`${base}/hosts`, { name: '测量主播' }, admin);
    const product = await post(`${base}/products`, { name: '苹果', origin: '陕西省延安市', unit: '箱', priceFen: 5000, stock: 100_000_000, buyerLimit: 10_000, pledge: { charityId: charity.id, perUnitFen: 100 } }, host.token);
    const stream = await post(`${base}/streams`, { title: '测量' }, host.token);
    await fetch(`${base}/streams/${stream.id}/products`, { method: 'PUT', body: JSON.stringify({ productIds: [product.id] }), headers: { 'content-type': 'application/json', authorization: `Bearer ${host.token}` } });
    await post(`${base}/streams/${stream.id}/start`, {}, host.token);
    const viewers = await Promise.all(Array.from({ length: 50 }, (_, i) => post(`${base}/viewers`, { nickname: `v${i}` }, '')));
    const orderBody = JSON.stringify({ streamId: stream.id, productId: product.id, quantity: 1 });
    let n = 0;
    const bareRes = await run({ url: 'http://127.0.0.1:18081/bare', method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const ordersRes = await run({
      url: `${base}/orders`, method: 'POST', body: orderBody,
      requests: [{ setupRequest: (req) => { const v = viewers[n++ % viewers.length]; return { ...req, headers: { 'content-type': 'application/json', authorization: `Bearer ${v.token}`, 'idempotency-key': `k${n}` } }; } }],
    });
    const line = (name: string, r: autocannon.Result) => `${name.padEnd(14)} ${r.requests.average.toFixed(0).padStart(6)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  non-2xx ${r.non2xx}  errors ${r.errors}`;
    console.log(line('bare express', bareRes));
    console.log(line('POST /orders', ordersRes));
    console.log(`ratio orders ÷ bare express: ${(ordersRes.requests.average / bareRes.requests.average).toFixed(2)}`);
  } finally {
    bare.kill('SIGTERM');
    svc.kill('SIGTERM');
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
