/**
 * CPU per order, per process, over a fixed workload: `npm run measure:cpu -- --rate 150 --seconds 40`.
 * The api and workers run on private Redis, FerretDB and Kafka (or the three-broker cluster with --kafka cluster),
 * so /proc's utime+stime of each server is this run's alone; 1,000 WebSocket viewers watch. Reported in ms of
 * CPU per 1,000 orders placed, paid and allocated, each process's idle cost (viewers connected, no orders)
 * subtracted, beside two baselines of the same run: a bare express request and the Redis reservation script.
 * `--compare <checkout>` runs a second deployment from another checkout side by side under the same load, so a
 * before/after comparison sees the same machine at the same moment (the stores are then shared by both).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { BenchClient, now } from '../bench/http';
import { freePort, ROOT, spawnTs, stopChild, waitHttpOk } from '../bench/service';
import { httpOpenLoop, redisReservationOps } from '../bench/baselines';
import { summarize } from '../bench/stats';
import { PrivateRedis } from '../../test/helpers/redis-server';
import { PrivateKafka } from '../../test/helpers/private-kafka';
import { PrivateMongo } from '../../test/helpers/private-mongo';
import { CpuMeter, localServerPids } from './proc-cpu';
import { MeasuredService, type Stages } from './cpu-service';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const selfCpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

interface Opts { stores: 'private' | 'shared'; rate: string; seconds: string; warmupRate?: string; warmupSeconds: string; viewers: string; kafka: 'private' | 'cluster'; baselines: boolean; profile?: boolean; compare?: string }

async function main(): Promise<void> {
  const o = new Command().name('cpu-per-order')
    .option('--rate <n>', 'orders/s offered (open loop) to each deployment', '150')
    .option('--seconds <n>', 'seconds of load: the fixed workload is rate × seconds orders', '40')
    .option('--viewers <n>', 'WebSocket viewers watching each deployment', '1000')
    .option('--warmup-rate <n>', 'orders/s of the warm-up before the idle and measured windows (default: --rate; until 2026-12-03 it was a fifth of it)')
    .option('--warmup-seconds <n>', 'seconds of warm-up', '10')
    .option('--kafka <where>', 'private: one private broker; cluster: the three brokers of scripts/cluster/kafka.sh', 'private')
    .option('--stores <where>', 'private: Redis, FerretDB (on SQLite) and Kafka of this run (their CPU measured); shared: the running stack from KAFKA_BROKERS, REDIS_URL, MONGO_URL (FerretDB on PostgreSQL by default; its servers on this machine measured by name, use by others included)', 'private')
    .option('--profile', 'run the api and workers under node --cpu-prof')
    .option('--compare <checkout>', 'a second deployment from another checkout (e.g. an export of main), side by side')
    .option('--no-baselines', 'skip the bare express and Redis-script baselines')
    .parse().opts<Opts>();
  const rate = Number(o.rate);
  const seconds = Number(o.seconds);
  const outDir = path.join(ROOT, 'bench', 'results', `cpu-per-order-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  fs.mkdirSync(outDir, { recursive: true });
  const profileDir = o.profile ? path.join(outDir, 'profiles') : undefined;
  const load = [os.loadavg()[0]];
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();

  const shared = o.stores === 'shared';
  const redis = shared ? null : await PrivateRedis.start();
  const mongo = shared ? null : await PrivateMongo.start();
  let kafka: PrivateKafka | null = null;
  let brokers: string;
  let kafkaPids: number[] = [];
  if (shared) {
    brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
  } else if (o.kafka === 'cluster') {
    brokers = execFileSync(path.join(ROOT, 'scripts/cluster/kafka.sh'), ['env'], { encoding: 'utf8' }).trim().replace(/^KAFKA_BROKERS=/, '');
    kafkaPids = [1, 2, 3].map((n) => Number(fs.readFileSync(path.join(ROOT, '.data/kafka-cluster', `node${n}.pid`), 'utf8')));
  } else {
    kafka = await PrivateKafka.start();
    brokers = kafka.brokers;
    kafkaPids = [kafka.proc!.pid!];
  }
  const services = [new MeasuredService('this', ROOT), ...(o.compare ? [new MeasuredService('compare', path.resolve(o.compare))] : [])];
  try {
    const stores = shared
      ? { kafka: brokers, redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', mongo: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/livegive' }
      : { kafka: brokers, redis: redis!.url, mongo: mongo!.url };
    for (const s of services) await s.start(stores, Number(o.viewers), outDir, profileDir);
    // at the measured rate: warmed at a fifth of it, the processes were still optimising code for the new rate when the
    // window began (JIT compilation was 16% of the workers' CPU samples in its first 25 s, `perf record`), and the
    // first ~2 s of every window held its slowest probes (p99 of screen latency set by that onset)
    const warmupRate = Number(o.warmupRate ?? rate);
    const warmupSeconds = Number(o.warmupSeconds);
    console.log(`cpu-per-order: ${services.map((s) => `${s.label}: ${s.viewers.stats.connected} viewers`).join(', ')}; warm-up ${warmupSeconds} s at ${warmupRate}/s`);
    await Promise.all(services.map((s) => s.broadcast.runStep(warmupRate, warmupSeconds)));
    await Promise.all(services.map((s) => s.drained(60_000)));

    // shared stores: every such process on this machine (none when the stores run elsewhere), so anyone else's use
    // of them counts too; a PostgreSQL backend that exits in the window turns its group's figure into NaN, never a wrong number
    const groups: Record<string, number[]> = shared ? localStoreGroups() : { redis: [redis!.proc!.pid!], kafka: kafkaPids, store: [mongo!.proc!.pid!] };
    for (const s of services) { groups[`${s.label}:api`] = [s.pids.api]; groups[`${s.label}:workers`] = [s.pids.workers]; }
    const meter = new CpuMeter(groups);
    // what each process costs with the viewers connected and no orders: subtracted below, reported apart
    meter.begin();
    let self0 = selfCpuMs();
    let t0 = now();
    await sleep(10_000);
    const idleS = (now() - t0) / 1000;
    const idlePerS = Object.fromEntries(Object.entries({ ...meter.end(), loadgen: selfCpuMs() - self0 }).map(([k, v]) => [k, v / idleS]));

    console.log(`cpu-per-order: measured load, ${rate}/s for ${seconds} s${services.length > 1 ? ' to each deployment' : ''}, then until every payment is allocated`);
    load.push(os.loadavg()[0]);
    meter.begin();
    self0 = selfCpuMs();
    t0 = now();
    const frames0 = services.map((s) => s.viewers.stats.frames);
    const scraped = await Promise.all(services.map((s) => s.scrape()));
    const steps = await Promise.all(services.map((s) => s.broadcast.runStep(rate, seconds)));
    const drained = await Promise.all(services.map((s) => s.drained(120_000)));
    const stages = await Promise.all(services.map(async (s, i) => MeasuredService.stages(scraped[i], await s.scrape())));
    const windowS = (now() - t0) / 1000;
    const gross: Record<string, number> = { ...meter.end(), loadgen: selfCpuMs() - self0 };
    load.push(os.loadavg()[0]);
    const orders = steps.reduce((n, s) => n + s.ok, 0);
    const ordersOf = (k: string) => (k.includes(':') ? steps[services.findIndex((s) => k.startsWith(`${s.label}:`))].ok : orders);
    const per1k = (k: string) => ((gross[k] - idlePerS[k] * windowS) / ordersOf(k)) * 1000;
    const result: Record<string, unknown> = {
      at: new Date().toISOString(), commit, rate, seconds, warmup: { rate: warmupRate, seconds: warmupSeconds }, kafka: o.kafka, stores: o.stores, windowS,
      deployments: services.map((s, i) => ({
        label: s.label, checkout: s.cwd, viewers: s.viewers.stats.connected, orders: steps[i].ok, paid: steps[i].payments.ok, errors: steps[i].errors, drained: drained[i],
        apiMsPer1k: per1k(`${s.label}:api`), workersMsPer1k: per1k(`${s.label}:workers`), serviceMsPer1k: per1k(`${s.label}:api`) + per1k(`${s.label}:workers`),
        // what the fan-out costs scales with this, not with orders: frames each viewer received per second of the window
        framesPerViewerPerS: (s.viewers.stats.frames - frames0[i]) / Math.max(1, s.viewers.stats.connected) / windowS,
        // the slowest probes: a high first delay is the pipeline's (Kafka, allocator, coalescing), a spread the fan-out's
        slowestProbes: s.probes.firstLast.map(([first, last], k) => ({ k: k + 1, step: s.probes.step[k], first: Math.round(first), last: Math.round(last) }))
          .filter((p) => p.step === s.broadcast.steps.indexOf(steps[i])).sort((a, b) => b.last - a.last).slice(0, 8),
        orderLatencyMs: summarize(steps[i].latencies), screenMs: summarize(s.probes.delays.get(s.broadcast.steps.indexOf(steps[i])) ?? []), stagesMs: stages[i],
      })),
      processes: Object.keys(gross).map((k) => ({ process: k, grossMs: gross[k], grossMsPer1kOrders: (gross[k] / ordersOf(k)) * 1000, idleMsPerS: idlePerS[k], msPer1kOrders: per1k(k) })),
    };
    for (const s of services) await s.stop();
    if (o.baselines && redis) result.baselines = await baselines(outDir, rate, seconds, redis);
    load.push(os.loadavg()[0]);
    result.loadAverage1m = load.map((l) => Number(l.toFixed(2)));
    fs.writeFileSync(path.join(outDir, 'cpu-per-order.json'), JSON.stringify(result, null, 2));
    print(result);
    console.log(`\nwritten: ${path.relative(ROOT, outDir)}/cpu-per-order.json`);
  } finally {
    for (const s of services) await s.stop().catch(() => undefined);
    if (shared) for (const s of services) await s.dropNamespace().catch((e) => console.warn('cpu-per-order: cleanup:', String(e)));
    await kafka?.destroy();
    await mongo?.destroy();
    await redis?.down({ wipe: true });
  }
}

/** The two baselines, measured on this machine in this run: ms of CPU per 1,000 requests / script calls. */
async function baselines(outDir: string, rate: number, seconds: number, redis: PrivateRedis) {
  const port = await freePort();
  const bare = spawnTs('bare-express', 'scripts/bench/bare-express.ts', [], { ...process.env, PORT: String(port) }, { logDir: outDir, port });
  const body = { streamId: 's_0123456789', productId: 'p_0123456789', quantity: 2 };
  let express: { requests: number; serverMsPer1k: number; clientMsPer1k: number };
  try {
    await waitHttpOk(bare, '/healthz', 30_000);
    const client = new BenchClient(port, 512);
    await httpOpenLoop(client, '/bare', body, rate, 5);
    const meter = new CpuMeter({ server: [bare.proc.pid!] });
    meter.begin();
    const self0 = selfCpuMs();
    // two requests per order (place, pay) at the scenario's rate
    const s = await httpOpenLoop(client, '/bare', body, rate * 2, seconds);
    const d = meter.end();
    express = { requests: s.requests, serverMsPer1k: (d.server / s.requests) * 1000, clientMsPer1k: ((selfCpuMs() - self0) / s.requests) * 1000 };
    client.close();
  } finally {
    await stopChild(bare);
  }
  const meter = new CpuMeter({ redis: [redis.proc!.pid!] });
  meter.begin();
  const self0 = selfCpuMs();
  const r = await redisReservationOps(redis.url, 'lg:cpu:', Math.min(seconds, 20));
  const d = meter.end();
  return { express, redisScript: { calls: r.ops, opsPerSec: r.opsPerSec, redisMsPer1k: (d.redis / r.ops) * 1000, clientMsPer1k: ((selfCpuMs() - self0) / r.ops) * 1000 } };
}

function print(r: Record<string, unknown>): void {
  type Dep = { label: string; checkout: string; viewers: number; framesPerViewerPerS: number; slowestProbes: { k: number; first: number; last: number }[]; orders: number; paid: number; drained: boolean; apiMsPer1k: number; workersMsPer1k: number; serviceMsPer1k: number; orderLatencyMs: { p99: number }; screenMs: { p50: number; p99: number }; stagesMs: Stages };
  const deps = r.deployments as Dep[];
  console.log(`\nfixed workload: ${r.rate}/s × ${r.seconds} s to each of ${deps.length} deployment(s), ${r.stores === 'shared' ? "the running stack" : `Kafka ${r.kafka}`}; window ${(r.windowS as number).toFixed(1)} s`);
  for (const d of deps) {
    console.log(`${d.label} (${d.checkout}): ${d.orders} orders placed, ${d.paid} paid, ${d.viewers} viewers, drained ${d.drained}: api ${d.apiMsPer1k.toFixed(0)}, workers ${d.workersMsPer1k.toFixed(0)}, service ${d.serviceMsPer1k.toFixed(0)} ms CPU per 1,000 orders; order p99 ${d.orderLatencyMs.p99.toFixed(0)} ms; payment → screen p50 ${d.screenMs.p50?.toFixed(0)} ms, p99 ${d.screenMs.p99?.toFixed(0)} ms; ${d.framesPerViewerPerS.toFixed(1)} frames a viewer a second`);
    console.log(`  slowest probes, first / last viewer ms: ${d.slowestProbes.map((p) => `${p.first}/${p.last}`).join(', ')}`);
    console.log(`  by stage, p50 / p99 ms (bucket bounds): ${Object.entries(d.stagesMs).map(([k, v]) => `${k} ${v.p50 ?? '-'} / ${v.p99 ?? '-'}`).join(', ')}`);
  }
  console.log('| process | ms CPU per 1,000 orders (idle subtracted) | gross ms per 1,000 orders | idle ms/s |\n| --- | --- | --- | --- |');
  for (const x of r.processes as { process: string; idleMsPerS: number; msPer1kOrders: number; grossMsPer1kOrders: number }[]) console.log(`| ${x.process} | ${x.msPer1kOrders.toFixed(0)} | ${x.grossMsPer1kOrders.toFixed(0)} | ${x.idleMsPerS.toFixed(1)} |`);
  if (r.baselines) console.log(`baselines: ${JSON.stringify(r.baselines)}`);
  console.log(`load average (1 min) at start / load / end / after baselines: ${(r.loadAverage1m as number[]).join(' / ')}`);
}

void main().then(() => process.exit(0), (e) => { console.error('cpu-per-order: failed:', e); process.exit(1); });

/** The running stack's servers on this machine by name, for --stores shared (a group only where some run). */
function localStoreGroups(): Record<string, number[]> {
  return Object.fromEntries(Object.entries(localServerPids()).filter(([, p]) => p.length > 0));
}
