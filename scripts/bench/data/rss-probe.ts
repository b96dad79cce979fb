/**
 * The API's RSS while it streams one statement, at a chain size of your choosing (README, "Campaign-scale
 * data"): seeds charity c_large with n entries over 2026-10-01..12-31 through the allocator's write path in
 * namespace <ns> (kept: drop the database when done), then runs the API as its own process (tsx, or the
 * compiled dist/ with PROBE_DIST=1) and samples its VmRSS every 200 ms while each format streams.
 *   tsx scripts/bench/data/rss-probe.ts seed <ns> <n>
 *   tsx scripts/bench/data/rss-probe.ts serve <ns> [json,csv,pdf] [node options, e.g. --trace-gc]
 */
import { spawn, execSync } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { loadConfig } from '../../../src/config';
import { closeDeps, createDeps } from '../../../src/deps';
import { createLogger } from '../../../src/infra/logger';
import { slices } from '../../../src/slices';
import { GENESIS } from '../../../src/allocator/ledger.types';
import { seedChain } from './seed';
import { memoryMb } from './measure';
import { usccCheckChar } from '../../../src/catalog/uscc';
import { removeNamespaceKeys } from './cleanup';

const ADMIN = 'probe-admin-token-0123456789abcdef';
const env = (ns: string, port = 0): NodeJS.ProcessEnv => ({
  ...process.env, LIVEGIVE_NAMESPACE: ns, LIVEGIVE_ADMIN_TOKEN: ADMIN, LIVEGIVE_PAYMENT_SECRET: 'probe-secret-0123456789abcdef',
  LIVEGIVE_LOG_LEVEL: 'warn', LIVEGIVE_RATE_LIMITS: 'off', PORT: String(port), HOST: '127.0.0.1',
});

const depsFor = (ns: string) => createDeps(loadConfig(env(ns)), { logger: createLogger('warn'), clientId: 'rss-probe', registerModels: (c) => slices.forEach((s) => s.models?.(c)) });

/** The API this probe ran wrote keys under the namespace's prefix (tokens, its recovery watch): they go when the probe ends. */
async function removeKeys(ns: string): Promise<void> {
  const deps = await depsFor(ns);
  try { console.error(`removed ${await removeNamespaceKeys(deps)} Redis keys under ${deps.config.redis.prefix}`); } finally { await closeDeps(deps); }
}

async function main() {
  const [cmd, ns, arg, ...rest] = process.argv.slice(2);
  if (cmd === 'seed') {
    const deps = await depsFor(ns);
    const body = `531100000000${String(Date.now() % 1000).padStart(3, '0')}01`;
    await deps.db.collection('charities').insertOne({ _id: 'c_large', name: '基准公益', registrationNo: body + usccCheckChar(body), active: true, createdAt: new Date() } as never);
    const t = Date.now();
    await seedChain(deps, 'c_large', GENESIS, Number(arg), Date.parse('2026-10-01T00:00:00Z'), Date.parse('2026-12-31T00:00:00Z'), { onChunk: (d) => { if (d % 20000 === 0) console.error(`seeded ${d} in ${Date.now() - t} ms`); } });
    await closeDeps(deps);
    return;
  }
  const port = await new Promise<number>((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
  const child = process.env.PROBE_DIST ? spawn(process.execPath, [...rest, 'dist/main.js', '--role', 'api'], { env: env(ns, port), stdio: ['ignore', 'inherit', 'inherit'] })
    : spawn(path.resolve('node_modules/.bin/tsx'), [...rest, 'src/main.ts', '--role', 'api'], { env: env(ns, port), stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 240 && !(await fetch(`${url}/healthz`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 250));
    const pid = process.env.PROBE_DIST ? child.pid! : Number(execSync(`pgrep -n -P ${child.pid}`).toString().trim()) || child.pid!;
    console.error(`api pid ${pid} start rss ${memoryMb(pid).now.toFixed(0)} MB`);
    for (const format of (arg ?? 'json,csv,pdf').split(',')) {
      const samples: number[] = [];
      const timer = setInterval(() => samples.push(memoryMb(pid).now), 200);
      const t = Date.now();
      const res = await fetch(`${url}/api/v1/charities/c_large/statements?from=2026-10-01T00:00:00.000Z&to=2027-01-01T00:00:00.000Z&format=${format}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
      let bytes = 0;
      for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) bytes += c.length;
      clearInterval(timer);
      const q = samples.length;
      console.error(`${format}: ${res.status} ${bytes} B in ${Date.now() - t} ms; rss samples ${[0, 0.25, 0.5, 0.75, 1].map((f) => samples[Math.min(q - 1, Math.floor(f * (q - 1)))]?.toFixed(0)).join(' → ')}; max ${Math.max(...samples).toFixed(0)}; VmHWM ${memoryMb(pid).peak.toFixed(0)}`);
    }
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    await removeKeys(ns);
  }
}

void main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
