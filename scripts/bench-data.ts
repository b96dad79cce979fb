/**
 * `npm run bench:data`: the ledger at campaign scale, on the store `scripts/stack` runs (FerretDB on
 * PostgreSQL by default). Each figure is a ratio measured in this one run, plus the absolute times:
 *   1. a quarter's statement (Q entries) with 0.1M vs 2M other entries in the collection, and against a bare
 *      driver cursor reading the same entries;
 *   2. receipt with proof, ledger page, public head, order status: p99 at a 1M-entry chain vs a 10k one;
 *   3. the API process's peak RSS while it streams a statement of the whole 1M chain (JSON, CSV, PDF),
 *      and `livegive verify` of that chain through the API;
 *   4. the allocator draining a backlog of ≥ 200,000 payments vs a bare insertMany of the same documents.
 * Sizes: --quarter 100000 --others-small 100000 --others-large 2000000 --chain-small 10000
 * --chain-large 1000000 --backlog 200000 --samples 200, or --scale 0.1 for all of them at once;
 * --only statement,chain,api,drain picks phases. Data goes to scratch databases (livegive_bd…), dropped after.
 */
import { randomBytes } from 'node:crypto';
import { execSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { closeDeps, createDeps, type Deps } from '../src/deps';
import { createLogger } from '../src/infra/logger';
import { slices } from '../src/slices';
import { buildStatement } from '../src/statements';
import { getReceipt, publicCharity } from '../src/statements/public-views';
import { LedgerRepository } from '../src/allocator';
import { getOrder, donationStatus } from '../src/orders/get-order';
import { runVerify } from '../src/statements/run-verify';
import { dayKeyOf, GENESIS } from '../src/allocator/ledger.types';
import { seedChain, seedOrders } from './bench/data/seed';
import { usccCheckChar } from '../src/catalog/uscc';
import { cpuSeconds, loadAverage, median, memoryMb, percentile, timed } from './bench/data/measure';
import { measureDrain } from './bench/data/drain';
import { removeNamespaceKeys } from './bench/data/cleanup';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const scale = Number(process.argv[process.argv.indexOf('--scale') + 1] ?? 1);
  return i >= 0 ? Number(process.argv[i + 1]) : Math.round(dflt * (process.argv.includes('--scale') ? scale : 1));
};
const only = (() => { const i = process.argv.indexOf('--only'); return i >= 0 ? process.argv[i + 1].split(',') : ['statement', 'chain', 'api', 'drain']; })();
const size = {
  quarter: arg('quarter', 100_000), othersSmall: arg('others-small', 100_000), othersLarge: arg('others-large', 2_000_000),
  chainSmall: Math.max(2000, arg('chain-small', 10_000)), chainLarge: arg('chain-large', 1_000_000), backlog: arg('backlog', 200_000),
  // allocator processes draining the backlog in one consumer group (1: in this process)
  allocators: process.argv.includes('--allocators') ? Number(process.argv[process.argv.indexOf('--allocators') + 1]) : 1,
  samples: Number(process.argv[process.argv.indexOf('--samples') + 1] ?? 0) || 200,
  // statements timed at each collection size (the median is reported; the growth ratio is of medians)
  statementSamples: process.argv.includes('--statement-samples') ? Number(process.argv[process.argv.indexOf('--statement-samples') + 1]) : 3,
};
const ADMIN = `bench-admin-${randomBytes(8).toString('hex')}`;
const log = (s: string) => console.error(`[bench:data ${new Date().toISOString().slice(11, 19)}] ${s}`);
const Q = { from: new Date('2026-10-01T00:00:00.000Z'), to: new Date('2027-01-01T00:00:00.000Z') };

function env(ns: string, port = 0): NodeJS.ProcessEnv {
  return {
    ...process.env, LIVEGIVE_NAMESPACE: ns, LIVEGIVE_ADMIN_TOKEN: ADMIN, LIVEGIVE_PAYMENT_SECRET: `bench-secret-${randomBytes(8).toString('hex')}`,
    LIVEGIVE_LOG_LEVEL: 'warn', LIVEGIVE_RATE_LIMITS: 'off', PORT: String(port), HOST: '127.0.0.1',
  };
}
/** Every namespace's deps this run opened: their Redis keys are removed when it ends, however it ends. */
const opened = new Set<Deps>();
async function depsFor(ns: string): Promise<Deps> {
  const config = loadConfig(env(ns));
  const deps = await createDeps(config, { logger: createLogger('warn'), clientId: `bench-data-${ns}`, registerModels: (c) => slices.forEach((s) => s.models?.(c)) });
  opened.add(deps);
  return deps;
}

/** Removes the Redis keys of the namespaces this run opened (allocated-event ids, totals, heads, the API's keys). */
async function removeRedisKeys(of: Iterable<Deps> = opened): Promise<void> {
  for (const deps of of) {
    const n = await removeNamespaceKeys(deps).catch((err: Error) => { log(`redis: keys under ${deps.config.redis.prefix} not removed: ${err.message}`); return 0; });
    log(`redis: removed ${n} keys under ${deps.config.redis.prefix}`);
  }
}
// interrupted (Ctrl-C, timeout): the keys go too
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void removeRedisKeys().finally(() => process.exit(130)); });
let charities = 0;
const charityDoc = (id: string) => {
  const body = `53110000${String(Date.now() % 1e6).padStart(6, '0')}${String(charities++).padStart(3, '0')}`;
  return { _id: id, name: `基准公益 ${id}`, registrationNo: body + usccCheckChar(body), active: true, createdAt: new Date() };
};

/** Phase 1: a quarter's statement as the collection grows from 0.1M to 2M other entries, and vs a bare cursor. */
async function statementGrowth(deps: Deps) {
  const A = 'c_quarter';
  await deps.db.collection('charities').insertOne(charityDoc(A) as never);
  const history = Math.floor(size.othersSmall / 2);
  log(`statement: charity ${A}: ${history} entries of history, then ${size.quarter} in the quarter`);
  const head = await seedChain(deps, A, GENESIS, history, Date.parse('2026-01-01T00:00:00Z'), Q.from.getTime());
  await seedChain(deps, A, head, size.quarter, Q.from.getTime(), Q.to.getTime());
  await seedChain(deps, 'c_other0', GENESIS, size.othersSmall - history, Date.parse('2026-01-01T00:00:00Z'), Q.to.getTime(), { bare: true });
  const measure = async () => {
    const stmt: number[] = [];
    const bare: number[] = [];
    let entries = 0;
    for (let r = 0; r < size.statementSamples; r++) {
      const s = await timed(() => buildStatement(deps, A, Q));
      stmt.push(s.ms);
      entries = s.value.entries;
      // the bare driver: the same day-by-day equality cursors, documents only counted
      bare.push((await timed(async () => {
        let n = 0;
        for (let d = Q.from.getTime(); d < Q.to.getTime(); d += 86_400_000) for await (const _ of deps.db.collection('ledger').find({ dayKey: dayKeyOf(A, new Date(d).toISOString().slice(0, 10)) })) n++;
        return n;
      })).ms);
    }
    return { statementMs: Math.round(median(stmt)), bareCursorMs: Math.round(median(bare)), entries, statementSamplesMs: stmt.map(Math.round), bareSamplesMs: bare.map(Math.round) };
  };
  const small = await measure();
  log(`statement at ${size.othersSmall} other entries: ${JSON.stringify(small)}; adding ${size.othersLarge - size.othersSmall} more`);
  const per = Math.ceil((size.othersLarge - size.othersSmall) / 20);
  for (let k = 1; k <= 20; k++) {
    await seedChain(deps, `c_other${k}`, GENESIS, Math.min(per, size.othersLarge - size.othersSmall - (k - 1) * per), Date.parse('2025-01-01T00:00:00Z'), Q.to.getTime(), { bare: true });
    log(`  others: ${size.othersSmall + Math.min(k * per, size.othersLarge - size.othersSmall)}`);
  }
  const large = await measure();
  log(`statement at ${size.othersLarge} other entries: ${JSON.stringify(large)}`);
  return {
    small, large, growthRatio: Number((large.statementMs / small.statementMs).toFixed(2)),
    vsBareCursor: Number((large.statementMs / large.bareCursorMs).toFixed(2)), vsBareCursorSmall: Number((small.statementMs / small.bareCursorMs).toFixed(2)),
  };
}

/** p50/p99 of the four O(1)/O(log n) reads over random picks in a charity's chain. */
async function latencies(deps: Deps, charityId: string, n: number) {
  const pick = () => Math.floor(Math.random() * n);
  // an order with an allocation (every 23rd entry is a reversal of the one before)
  const allocated = () => { const k = pick(); return k % 23 === 22 ? k - 1 : k; };
  const ops: Record<string, () => Promise<unknown>> = {
    receipt: () => getReceipt(deps, `${charityId}_o${allocated()}`),
    page: () => new LedgerRepository(deps).page(charityId, pick(), 100),
    head: () => publicCharity(deps, charityId),
    orderStatus: async () => { const o = await getOrder(deps, `${charityId}_o${allocated()}`); if (!o) throw new Error('order not found'); return donationStatus(deps, o); },
  };
  const out: Record<string, { p50: number; p99: number }> = {};
  for (const [name, op] of Object.entries(ops)) {
    const ms: number[] = [];
    for (let i = 0; i < size.samples; i++) ms.push((await timed(op)).ms);
    out[name] = { p50: Number(percentile(ms, 50).toFixed(1)), p99: Number(percentile(ms, 99).toFixed(1)) };
  }
  return out;
}

async function chainGrowth(deps: Deps) {
  const [S, L] = ['c_small', 'c_large'];
  await deps.db.collection('charities').insertMany([charityDoc(S), charityDoc(L)] as never[]);
  log(`chain: ${S} with ${size.chainSmall} entries`);
  await seedChain(deps, S, GENESIS, size.chainSmall, Date.parse('2026-11-11T00:00:00Z'), Date.parse('2026-11-12T00:00:00Z'));
  await seedOrders(deps.db, S, size.chainSmall);
  const small = await latencies(deps, S, size.chainSmall);
  log(`chain ${size.chainSmall}: ${JSON.stringify(small)}; seeding ${L} with ${size.chainLarge}`);
  const t = Date.now();
  await seedChain(deps, L, GENESIS, size.chainLarge, Date.parse('2026-10-01T00:00:00Z'), Date.parse('2026-12-31T00:00:00Z'), { onChunk: (d) => { if (d % 100_000 === 0) log(`  ${L}: ${d} (${Math.round(d / ((Date.now() - t) / 1000))}/s through the allocator's write path)`); } });
  await seedOrders(deps.db, L, size.chainLarge);
  const large = await latencies(deps, L, size.chainLarge);
  log(`chain ${size.chainLarge}: ${JSON.stringify(large)}`);
  const ratios = Object.fromEntries(Object.keys(small).map((k) => [k, Number((large[k].p99 / small[k].p99).toFixed(2))]));
  return { small, large, p99Ratios: ratios, seedPerSec: Math.round(size.chainLarge / ((Date.now() - t) / 1000)) };
}

const freePort = () => new Promise<number>((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });

/** Phase 3: the API as its own process streams the 1M chain's statement (JSON, CSV, PDF) and serves verify. */
async function apiStreaming(ns: string) {
  const port = await freePort();
  const child = spawn(path.resolve('node_modules/.bin/tsx'), ['src/main.ts', '--role', 'api'], { env: env(ns, port), stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 240 && !(await fetch(`${url}/healthz`).then((r) => r.ok, () => false)); i++) await new Promise((r) => setTimeout(r, 250));
    // tsx runs node as its child: the API is the process listening, the newest descendant
    const pid = Number(execSync(`pgrep -n -P ${child.pid}`).toString().trim()) || child.pid!;
    const startMb = memoryMb(pid);
    const from = '2026-10-01T00:00:00.000Z';
    const to = '2027-01-01T00:00:00.000Z';
    const out: Record<string, unknown> = { startRssMb: Math.round(startMb.now) };
    for (const format of ['json', 'csv', 'pdf']) {
      const r = await timed(async () => {
        const res = await fetch(`${url}/api/v1/charities/c_large/statements?from=${from}&to=${to}&format=${format}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
        let bytes = 0;
        for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) bytes += c.length;
        return { status: res.status, bytes };
      });
      out[format] = { ms: Math.round(r.ms), ...r.value, peakRssMb: Math.round(memoryMb(pid).peak) };
      log(`api statement ${format}: ${JSON.stringify(out[format])}`);
    }
    const lines: string[] = [];
    const v = await timed(() => runVerify({ charity: 'c_large', url, token: ADMIN }, { log: (l) => lines.push(l) }));
    out.verify = { ms: Math.round(v.ms), exit: v.value, said: lines[lines.length - 1], peakRssMb: Math.round(memoryMb(pid).peak) };
    log(`verify through the API: ${JSON.stringify(out.verify)}`);
    out.peakRssMb = Math.round(memoryMb(pid).peak);
    return out;
  } finally {
    child.kill('SIGTERM');
  }
}

async function main() {
  const ns = `bd${randomBytes(3).toString('hex')}`;
  const report: Record<string, unknown> = { startedAt: new Date().toISOString(), size, loadAverageStart: loadAverage(), mongo: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017' };
  const cpu0 = cpuSeconds();
  const deps = await depsFor(ns);
  try {
    if (only.includes('statement')) report.statement = await statementGrowth(deps);
    if (only.includes('chain')) report.chain = await chainGrowth(deps);
    if (only.includes('api') && only.includes('chain')) report.api = await apiStreaming(ns);
    if (only.includes('drain')) {
      const d = await depsFor(`${ns}d`);
      const bare: [Deps, Deps] = [await depsFor(`${ns}b`), await depsFor(`${ns}e`)];
      try { report.drain = await measureDrain(d, bare, size.backlog, 12, log, { allocators: size.allocators, env: env(`${ns}d`) }); } finally {
        for (const x of [d, ...bare]) await x.db.dropDatabase().catch(() => undefined);
        await removeRedisKeys([d, ...bare]);
        for (const x of [d, ...bare]) { await closeDeps(x); opened.delete(x); }
      }
      log(`drain: ${JSON.stringify(report.drain)}`);
    }
  } finally {
    if (!process.argv.includes('--keep')) {
      await deps.db.dropDatabase().catch(() => undefined);
      // the topics this run's namespaces created
      const admin = deps.kafka.admin();
      await admin.connect();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${ns}.`) || t.startsWith(`${ns}d.`) || t.startsWith(`${ns}b.`) || t.startsWith(`${ns}e.`));
      if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
      await admin.disconnect();
    }
    if (!process.argv.includes('--keep')) await removeRedisKeys(); // --keep: the scratch database, topics and keys stay, for a look
    await closeDeps(deps);
  }
  report.loadAverageEnd = loadAverage();
  report.benchCpuS = Number((cpuSeconds() - cpu0).toFixed(1));
  report.finishedAt = new Date().toISOString();
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/data-${report.startedAt as string}.json`.replace(/:/g, '-');
  writeFileSync(file, JSON.stringify(report, null, 2));
  console.log(JSON.stringify(report, null, 2));
  log(`written to ${file}`);
  process.exit(0);
}

void main().catch((err) => { console.error(err); process.exit(1); });
