import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { Command } from 'commander';
import { MongoClient } from 'mongodb';
import Redis from 'ioredis';
import { loadConfig } from '../src/config';
import { BenchClient, now } from './bench/http';
import { Child, dropNamespace, freePort, ROOT, rssBytes, spawnTs, stopChild, waitHttpOk } from './bench/service';
import { seedScenario } from './bench/seed';
import { Broadcast } from './bench/scenario';
import { ProbeBook, Viewers } from './bench/viewers';
import { LagMonitor } from './bench/kafka-lag';
import { verifyRun, Check } from './bench/verify';
import { httpOpenLoop, HttpStep, kafkaBaseline, redisReservationOps } from './bench/baselines';
import { defaultRule, ratio, stepFailures, summarize, sustainableRate } from './bench/stats';
import { renderCharts, renderMarkdown, Report, StepReport } from './bench/report';
import { selfTimes, selfTimesByOwner, CpuProfile } from './bench/profile';
import { Progress, printSummary } from './bench/console';
import { bucketPercentileMs, gaugeValue, histogramBuckets, parseBuckets } from './bench/server-latency';

const FULL_STEPS = [250, 500, 1000, 2000, 2600, 4000];
const QUICK_STEPS = [250, 1000, 2600];

interface Opts { serviceFrom?: string; quick?: boolean; profile?: boolean; steps?: string; stepSeconds?: string; warmupSeconds?: string; viewers: string; buyers: string; keep?: boolean; baselines: boolean }

async function main(): Promise<number> {
  const o = new Command().name('bench')
    .description('The record broadcast, end to end against the real stack, with baselines in the same run.')
    .option('--quick', '3 steps of 10 s (about a minute)')
    .option('--profile', 'run the api and workers under node --cpu-prof and name the top functions')
    .option('--steps <list>', 'offered orders/s per step, comma-separated')
    .option('--step-seconds <n>', 'seconds per step')
    .option('--warmup-seconds <n>', 'unmeasured load before the first step, at a fifth of its rate (10 s; --quick 5 s; 0: none)')
    .option('--viewers <n>', 'WebSocket viewers', '1000')
    .option('--buyers <n>', 'distinct buying viewers', '400')
    .option('--service-from <checkout>', 'run the api and workers from another checkout (a before/after pair with the same load generator)')
    .option('--keep', 'keep the namespace (database, keys, topics) afterwards')
    .option('--no-baselines', 'skip the baselines')
    .parse().opts<Opts>();
  const steps = o.steps ? o.steps.split(',').map(Number).filter((n) => n > 0 && n <= 20_000) : o.quick ? QUICK_STEPS : FULL_STEPS;
  const stepS = Math.min(300, Number(o.stepSeconds ?? (o.quick ? 10 : 30)));
  const viewersN = Math.min(5000, Number(o.viewers));
  const mode = o.quick ? 'quick' : 'full';
  const commit = git(['rev-parse', '--short', 'HEAD']);
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? '+dirty' : '';
  const outDir = uniqueDir(path.join(ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-${commit}${o.quick ? '-quick' : ''}${o.profile ? '-profile' : ''}`));
  const profileDir = o.profile ? path.join(outDir, 'profiles') : undefined;
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
  console.log(`bench: ${mode} run, steps ${steps.join(', ')} orders/s × ${stepS} s, ${viewersN} viewers; results in ${path.relative(ROOT, outDir)}`);

  execFileSync(path.join(ROOT, 'scripts', 'stack'), ['up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const runId = randomBytes(4).toString('hex');
  const ns = `bench_${runId}`;
  const port = await freePort();
  const opsPort = await freePort();
  const serviceCwd = o.serviceFrom ? path.resolve(o.serviceFrom) : ROOT;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LIVEGIVE_NAMESPACE: ns, LIVEGIVE_RATE_LIMITS: 'off', PORT: String(port), HOST: '127.0.0.1', LIVEGIVE_LOG_LEVEL: 'warn', LIVEGIVE_OPS_PORT: String(opsPort),
    LIVEGIVE_ADMIN_TOKEN: `bench-admin-${randomBytes(16).toString('hex')}`, LIVEGIVE_PAYMENT_SECRET: `bench-pay-${randomBytes(16).toString('hex')}`,
    LIVEGIVE_WS_MAX_PER_IP: String(viewersN + 100), LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '1000',
  };
  const config = loadConfig(env);
  const children: Child[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  const onSignal = () => { for (const c of children) c.proc.kill('SIGTERM'); process.exit(130); };
  // never leave a service process behind, whatever ends this one
  process.once('exit', () => { for (const c of children) if (c.proc.exitCode === null) c.proc.kill('SIGTERM'); });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const mongo = await MongoClient.connect(config.mongo.url);
  const lag = new LagMonitor(config.kafka.brokers, config.kafka.topics.orderEvents, config.kafka.groupPrefix);
  await lag.connect();
  cleanups.push(() => lag.disconnect(), () => mongo.close());
  if (!o.keep) cleanups.unshift(() => dropNamespace(config, mongo));
  let exitCode = 0;
  try {
    if (o.serviceFrom) console.log(`bench: the api and workers run from ${serviceCwd} (${git(['-C', serviceCwd, 'rev-parse', '--short', 'HEAD'])})`);
    const api = spawnTs('api', 'src/main.ts', ['--role', 'api'], env, { logDir: outDir, profileDir, port, cwd: serviceCwd });
    const workers = spawnTs('workers', 'src/main.ts', ['--role', 'workers'], env, { logDir: outDir, profileDir, cwd: serviceCwd });
    children.push(api, workers);
    await waitHttpOk(api, '/readyz');
    await waitFor(async () => (await lag.groups()).length > 0, 60_000).catch(() => console.warn('bench: no consumer group of the workers showed up within 60 s; lag will read 0'));

    const setup = new BenchClient(port, 16);
    const seed = await seedScenario(setup, env.LIVEGIVE_ADMIN_TOKEN!, runId, { buyers: Number(o.buyers), stock: 5_000_000, matchCapFen: 2_000_000 });
    const probes = new ProbeBook();
    const viewers = new Viewers(port, seed.streamId, seed.products.find((p) => p.role === 'probe')!.id, probes);
    await viewers.connect(viewersN);
    console.log(`bench: seeded stream ${seed.streamId}; ${viewers.stats.connected} viewers connected, ${viewers.stats.failed} failed`);
    const clients = { orders: new BenchClient(port, 512), payments: new BenchClient(port, 256), probes: new BenchClient(port, 2) };
    const broadcast = new Broadcast(seed, clients, { payment: env.LIVEGIVE_PAYMENT_SECRET!, admin: env.LIVEGIVE_ADMIN_TOKEN! }, probes, { payDelayMs: 100, refundShare: 0.05, refundDelayMs: 1000, probeEveryMs: 200, maxInFlight: 20_000 }, runId);

    // lag and memory once a second, in the background, for the whole load
    const t0 = now();
    const rss: { tS: number; api: number; workers: number }[] = [];
    let sampling = true;
    const pingRedis = new Redis(config.redis.url, { maxRetriesPerRequest: 1 });
    cleanups.push(async () => pingRedis.disconnect());
    const probesMs: { tMs: number; kafkaAdminMs: number; redisPingMs: number; mongoPingMs: number }[] = [];
    const sampler = (async () => {
      while (sampling) {
        const t = now();
        await lag.sample(t).catch(() => undefined);
        const kafkaMs = now() - t;
        // how the stores answer meanwhile: a Redis PING and a MongoDB ping, timed from this process
        const r0 = now();
        await pingRedis.ping().catch(() => undefined);
        const m0 = now();
        await mongo.db('admin').command({ ping: 1 }).catch(() => undefined);
        probesMs.push({ tMs: t, kafkaAdminMs: kafkaMs, redisPingMs: m0 - r0, mongoPingMs: now() - m0 });
        rss.push({ tS: (t - t0) / 1000, api: rssBytes(api.proc.pid!), workers: rssBytes(workers.proc.pid!) });
        await sleep(Math.max(0, 1000 - (now() - t)));
      }
    })();

    // a fresh process compiles its hot paths and fills its pools during the first seconds of load; measured
    // steps start warm (the warm-up's orders are still checked for correctness like every other)
    const warmS = Math.max(0, Math.min(120, Number(o.warmupSeconds ?? (o.quick ? 5 : 10))));
    const warmRate = Math.max(10, Math.min(50, Math.round(steps[0] / 5)));
    if (warmS > 0) {
      console.log(`bench: warm-up, ${warmS} s at ${warmRate} orders/s (not measured)`);
      await broadcast.runStep(warmRate, warmS);
      await waitFor(async () => broadcast.pending === 0, 30_000).catch(() => undefined);
    }
    const stepReports: StepReport[] = [];
    const stepStartsS: number[] = [];
    const skipped: number[] = [];
    const progress = new Progress(steps.length * stepS);
    const loadAtStart = os.loadavg()[0];
    for (const offered of steps) {
      const prev = stepReports.at(-1);
      if (prev && (prev.achieved < prev.offered * 0.5 || prev.errorRate > 0.2)) {
        skipped.push(offered); // the previous step was already far past saturation: higher ones only add backlog
        continue;
      }
      stepStartsS.push((now() - t0) / 1000);
      const metricsBefore = await scrapeMetrics(port);
      const workersBefore = await scrapeMetrics(opsPort);
      const ticker = setInterval(() => progress.tick(broadcast, offered, lag.samples.at(-1)?.total ?? 0), 500);
      // the load generator's own delay: a frame waits this long in the bench before its arrival is timed
      const loadgenLoop = monitorEventLoopDelay({ resolution: 10 });
      loadgenLoop.enable();
      const c = await broadcast.runStep(offered, stepS);
      clearInterval(ticker);
      loadgenLoop.disable();
      const endMs = now();
      const atEnd = await lag.sample(endMs).catch(() => null);
      // the rule's window: lag and in-flight work back to zero within 10 s of the step's end
      let drainedAfterS: number | null = null;
      const groupDrainedS: Record<string, number | null> = Object.fromEntries(Object.keys(atEnd?.byGroup ?? {}).map((g) => [g, null]));
      while (now() - endMs < defaultRule.maxDrainS * 1000 + 500) {
        const s = await lag.sample(now()).catch(() => null);
        for (const [g, v] of Object.entries(s?.byGroup ?? {})) if (v === 0 && groupDrainedS[g] == null) groupDrainedS[g] = (now() - endMs) / 1000;
        if (s && s.total === 0 && broadcast.pending === 0) { drainedAfterS = (now() - endMs) / 1000; break; }
        await sleep(250);
      }
      await waitFor(async () => broadcast.pending === 0, 30_000).catch(() => undefined);
      const inStep = probesMs.filter((x) => x.tMs >= c.startMs);
      const med = (k: 'kafkaAdminMs' | 'redisPingMs' | 'mongoPingMs') => summarize(inStep.map((x) => x[k])).p50;
      const storesMs = { redisPing: med('redisPingMs'), mongoPing: med('mongoPingMs'), kafkaAdmin: med('kafkaAdminMs') };
      const metricsAfter = await scrapeMetrics(port);
      const workersAfter = await scrapeMetrics(opsPort);
      const pct = (route: string, p: number) => bucketPercentileMs(parseBuckets(metricsBefore, 'POST', route), parseBuckets(metricsAfter, 'POST', route), p);
      const hist = (metric: string, p: number) => bucketPercentileMs(histogramBuckets(metricsBefore, metric), histogramBuckets(metricsAfter, metric), p);
      const whist = (metric: string, p: number) => bucketPercentileMs(histogramBuckets(workersBefore, metric), histogramBuckets(workersAfter, metric), p);
      const serverMs = {
        orderP50: pct('/api/v1/orders', 0.5), orderP99: pct('/api/v1/orders', 0.99), payP50: pct('/api/v1/payments/notify', 0.5), payP99: pct('/api/v1/payments/notify', 0.99),
        kafkaSendP50: hist('livegive_produce_seconds', 0.5), kafkaSendP99: hist('livegive_produce_seconds', 0.99),
        kafkaWaitP50: hist('livegive_produce_wait_seconds', 0.5), kafkaWaitP99: hist('livegive_produce_wait_seconds', 0.99),
        eventLoopLagP99: gaugeValue(metricsAfter, 'livegive_nodejs_eventloop_lag_p99_seconds') * 1000,
        // the payment → screen path after the payment's answer: Kafka to the allocator, its batch, the feed
        eventAgeP50: whist('livegive_allocator_event_age_seconds', 0.5), eventAgeP99: whist('livegive_allocator_event_age_seconds', 0.99),
        allocBatchP50: whist('livegive_allocator_batch_seconds', 0.5), allocBatchP99: whist('livegive_allocator_batch_seconds', 0.99),
        feedP50: hist('livegive_feed_notify_to_send_seconds', 0.5), feedP99: hist('livegive_feed_notify_to_send_seconds', 0.99),
        loadgenLoopP99: loadgenLoop.percentile(99) / 1e6,
      };
      stepReports.push({ storesMs, serverMs, ...stepReport(c, probes, broadcast.steps.indexOf(c), lag.samples, atEnd?.total ?? NaN, drainedAfterS, rss.at(-1)), lagByGroupAtEnd: atEnd?.byGroup ?? {}, groupDrainedS });
      progress.stepDone(stepReports.at(-1)!);
    }
    progress.stop();
    console.log('bench: load done; waiting for the pipeline to settle, then checking correctness');
    await waitFor(async () => broadcast.pending === 0 && (await lag.sample(now())).total === 0, o.quick ? 60_000 : 120_000).catch(() => console.warn('bench: consumer lag did not reach zero in time; checking anyway'));
    sampling = false;
    await sampler;
    const settled = await broadcast.settleUnknowns(env.LIVEGIVE_ADMIN_TOKEN!);
    if (settled.replayed || settled.resent || settled.readBack) console.log(`bench: settled what got no answer: ${settled.replayed} orders replayed by idempotency key (${settled.recovered} existed or were made), ${settled.resent} payments/refunds sent again until answered, ${settled.readBack} outcomes read back${Object.keys(settled.readBackErrors).length ? ` (read-back errors: ${JSON.stringify(settled.readBackErrors)})` : ''}`);
    let checks: Check[] = [];
    const db = mongo.db(new URL(config.mongo.url).pathname.slice(1));
    // totals and the projection may trail the ledger by a moment: retry for up to 45 s
    const verifyUntil = Date.now() + 45_000;
    do {
      // one attempt may read a lot from a busy MongoDB: bounded, and a timeout is itself a failed check
      const timedOut: Check[] = [{ name: 'correctness checks finished in time', ok: false, detail: 'a verification pass took longer than 180 s (MongoDB too busy to read back the run)' }];
      checks = await Promise.race([verifyRun(setup, db, seed, broadcast.orders), sleep(180_000).then(() => timedOut)]);
      if (checks.every((c) => c.ok) || checks === timedOut) break;
      await sleep(5000);
    } while (Date.now() < verifyUntil);
    viewers.close();
    for (const c of Object.values(clients)) c.close();
    setup.close();
    for (const c of children) await stopChild(c);

    const producedEvents = lag.samples.at(-1)?.produced ?? 0;
    const baselines = o.baselines ? await runBaselines(steps, o.quick ? 5 : 10, config, outDir, profileDir, Math.min(producedEvents || 50_000, o.quick ? 100_000 : 400_000), sampleEventValue(seed)) : { express: { steps: [], sustainableRate: null }, redis: null, kafka: null };
    const profiles = profileDir ? readProfiles(profileDir) : undefined;
    const report: Report = {
      startedAt: new Date(Date.now() - (now() - t0)).toISOString(), commit: commit + dirty, command: `npm run bench --${process.argv.slice(2).map((a) => ` ${a}`).join('')}`, mode,
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '?', memGB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      notes: [
        `This machine has ${os.cpus().length} cores, shared by the load generator (this process: ${viewersN} WebSocket viewers, the open-loop client, payments and refunds), the api and workers processes, Kafka, FerretDB and Redis. The load generator competes with the server for CPU, so every figure here is a floor for the service on its own hardware; the ratios against the baselines (same machine, same load generator) are what carries over.`,
        'Latency is measured from the time each request was scheduled (open loop), so queueing in the client or the server is included, not hidden.',
        ...(warmS > 0 ? [`Before the first step, ${warmS} s of unmeasured load at ${warmRate} orders/s warmed the processes (JIT, connection pools); its orders are included in the correctness checks.`] : []),
        `Other work on the machine: 1-minute load average ${loadAtStart.toFixed(1)} when the load started and ${os.loadavg()[0].toFixed(1)} at the end (2 cores: anything above 2 means processes waiting for CPU).`,
        ...(settled.replayed || settled.resent || settled.readBack ? [`Requests that got no answer during the load were settled afterwards as a real client would: ${settled.replayed} orders replayed with their idempotency key (${settled.recovered} had been made by the server or were made then, and are counted as accepted, unpaid), ${settled.resent} payment notifications/refunds sent again until answered (a provider retries), ${settled.readBack} outcomes read back with GET /api/v1/orders/:id after a definite refusal.`] : []),
        ...(skipped.length ? [`Steps not run because the previous step was already past saturation (achieved < 50% of offered or > 20% errors): ${skipped.join(', ')} orders/s.`] : []),
      ],
      scenario: { steps, stepSeconds: stepS, viewers: viewersN, buyers: Number(o.buyers), products: 20, charities: 3, payDelayMs: 100, refundShare: 0.05, matchCapFen: seed.match.capFen, namespace: ns },
      steps: stepReports, sustainableRate: sustainableRate(stepReports.map(verdictInput)),
      baselines, ratios: [], viewers: viewers.stats,
      lag: lag.samples.map((s) => ({ tS: (s.tMs - t0) / 1000, total: s.total, byGroup: s.byGroup })), stepStartsS, checks, profiles,
    };
    report.ratios = ratios(report);
    fs.writeFileSync(path.join(outDir, 'report.json'), JSON.stringify({ ...report, rss }, null, 2));
    fs.writeFileSync(path.join(outDir, 'report.md'), renderMarkdown(report));
    for (const c of renderCharts(report)) fs.writeFileSync(path.join(outDir, c.file), c.svg);
    printSummary(report, path.relative(ROOT, outDir));
    if (!checks.every((c) => c.ok)) {
      console.error('\n!!!!!!!!!! BENCH CORRECTNESS CHECK FAILED !!!!!!!!!!');
      for (const c of checks.filter((x) => !x.ok)) console.error(`  FAIL ${c.name}: ${c.detail}`);
      exitCode = 1;
    }
  } catch (err) {
    console.error('bench: failed:', err);
    exitCode = 1;
  } finally {
    for (const c of children) await stopChild(c, 5000).catch(() => undefined);
    for (const f of cleanups) await f().catch((e) => console.warn('bench: cleanup:', String(e)));
  }
  return exitCode;
}

function verdictInput(s: StepReport) {
  return { offered: s.offered, p99Ms: s.latency.p99, requests: s.sent, errors: Object.values(s.errors).reduce((a, b) => a + b, 0), lagDrainedAfterS: s.lagDrainedAfterS };
}

/** The api's /metrics text ('' when it does not answer: the step then has no server-side figures). */
async function scrapeMetrics(port: number): Promise<string> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
    return r.ok ? await r.text() : '';
  } catch { return ''; }
}

function stepReport(c: Broadcast['steps'][number], probes: ProbeBook, idx: number, samples: LagMonitor['samples'], lagAtEnd: number, drainedAfterS: number | null, mem?: { api: number; workers: number }): StepReport {
  const errors = Object.values(c.errors).reduce((a, v) => a + v, 0);
  const answered = c.ok + c.soldOut;
  const window = samples.filter((s) => s.tMs >= c.startMs);
  const first = window[0];
  const last = window.at(-1);
  const dt = first && last && last.tMs > first.tMs ? (last.tMs - first.tMs) / 1000 : NaN;
  const consumedPerSec: Record<string, number> = {};
  for (const g of Object.keys(last?.byGroup ?? {})) consumedPerSec[g] = ((last!.produced - last!.byGroup[g]) - (first!.produced - (first!.byGroup[g] ?? first!.produced))) / dt;
  const delays = probes.delays.get(idx);
  const r: StepReport = {
    offered: c.offered, durationS: c.durationS, sent: c.sent, soldOut: c.soldOut,
    achieved: answered / (Math.max(c.durationS * 1000, c.lastEndMs - c.startMs) / 1000),
    errors: c.errors, errorRate: c.sent ? errors / c.sent : 0, latency: summarize(c.latencies),
    payments: { sent: c.payments.sent, ok: c.payments.ok, errors: c.payments.errors, latency: summarize(c.payments.latencies) },
    refunds: c.refunds, screen: delays?.length ? summarize(delays) : null, lagAtEnd, lagDrainedAfterS: drainedAfterS,
    consumedPerSec, producedPerSec: first && last ? (last.produced - first.produced) / dt : NaN,
    rssMB: { api: (mem?.api ?? 0) / 2 ** 20, workers: (mem?.workers ?? 0) / 2 ** 20 }, failures: [],
  };
  r.failures = stepFailures(verdictInput(r));
  return r;
}

async function runBaselines(steps: number[], stepS: number, config: ReturnType<typeof loadConfig>, outDir: string, profileDir: string | undefined, kafkaCount: number, sampleValue: string): Promise<Report['baselines']> {
  console.log('bench: baselines — bare express, the Redis reservation script, kafkajs with no work');
  const port = await freePort();
  const bare = spawnTs('bare-express', 'scripts/bench/bare-express.ts', [], { ...process.env, PORT: String(port) }, { logDir: outDir, profileDir, port });
  const express: HttpStep[] = [];
  try {
    await waitHttpOk(bare, '/healthz', 30_000);
    const client = new BenchClient(port, 512);
    const body = { streamId: 's_0123456789', productId: 'p_0123456789', quantity: 2 };
    // the same rates as the scenario, then higher until the bare route fails the rule too
    const top = Math.max(...steps);
    for (const offered of [...steps, ...[1.5, 2.25, 3.4, 5].map((m) => Math.round(top * m)).filter((r) => r <= 20_000)]) {
      const s = await httpOpenLoop(client, '/bare', body, offered, stepS);
      express.push(s);
      console.log(`  express ${offered}/s: achieved ${Math.round(s.achieved)}/s, p99 ${s.latency.p99.toFixed(1)} ms, ${s.errors} errors`);
      if (stepFailures({ offered, p99Ms: s.latency.p99, requests: s.requests, errors: s.errors, lagDrainedAfterS: 0 }).length) break;
    }
    client.close();
  } finally {
    await stopChild(bare);
  }
  const redis = await redisReservationOps(config.redis.url, config.redis.prefix, stepS);
  console.log(`  redis reservation script: ${Math.round(redis.opsPerSec)} ops/s${redis.errors ? ` (${redis.errors} refused: the baseline is broken)` : ""}`);
  const kafka = await kafkaBaseline(config.kafka.brokers, `${config.namespace}.bench-baseline.v1`, config.kafka.partitions, kafkaCount, sampleValue);
  console.log(`  kafkajs ${kafka.count} events: produce ${Math.round(kafka.producePerSec)}/s, consume ${Math.round(kafka.consumePerSec)}/s`);
  const expressRule = express.map((s) => ({ offered: s.offered, p99Ms: s.latency.p99, requests: s.requests, errors: s.errors, lagDrainedAfterS: 0 }));
  return { express: { steps: express, sustainableRate: sustainableRate(expressRule) }, redis, kafka };
}

function ratios(r: Report): Report['ratios'] {
  const top = r.steps.at(-1);
  const exAt = (offered: number) => r.baselines.express.steps.find((s) => s.offered === offered);
  const sus = r.steps.find((s) => s.offered === r.sustainableRate);
  const peak = (pick: (s: StepReport) => number) => {
    const v = r.steps.map(pick).filter(Number.isFinite);
    return v.length ? Math.max(...v) : NaN;
  };
  const alloc = (s: StepReport) => Object.entries(s.consumedPerSec).find(([g]) => /alloc/.test(g))?.[1] ?? NaN;
  const proj = (s: StepReport) => Object.entries(s.consumedPerSec).find(([g]) => /projection/.test(g))?.[1] ?? NaN;
  return [
    { stage: 'intake ÷ bare express (sustainable rates)', value: ratio(r.sustainableRate, r.baselines.express.sustainableRate), numerator: `${r.sustainableRate ?? '–'} orders/s`, denominator: `${r.baselines.express.sustainableRate ?? '–'} req/s` },
    { stage: `intake ÷ bare express (achieved at the top step, ${top?.offered}/s offered)`, value: ratio(top?.achieved, top && exAt(top.offered)?.achieved), numerator: `${Math.round(top?.achieved ?? NaN)} orders/s`, denominator: `${Math.round((top && exAt(top.offered)?.achieved) ?? NaN)} req/s` },
    { stage: `order p99 ÷ bare express p99 at the sustainable rate (latency multiple)`, value: ratio(sus?.latency.p99, sus && exAt(sus.offered)?.latency.p99), numerator: `${Math.round(sus?.latency.p99 ?? NaN)} ms`, denominator: `${(sus && exAt(sus.offered)?.latency.p99)?.toFixed(1) ?? '–'} ms` },
    { stage: 'intake ÷ Redis reservation script alone', value: ratio(r.sustainableRate, r.baselines.redis?.opsPerSec), numerator: `${r.sustainableRate ?? '–'} orders/s`, denominator: `${Math.round(r.baselines.redis?.opsPerSec ?? NaN)} ops/s` },
    { stage: 'events produced by the service (peak step) ÷ kafkajs produce', value: ratio(peak((s) => s.producedPerSec), r.baselines.kafka?.producePerSec), numerator: `${Math.round(peak((s) => s.producedPerSec))} events/s`, denominator: `${Math.round(r.baselines.kafka?.producePerSec ?? NaN)} events/s` },
    { stage: 'allocator consumption (peak step) ÷ kafkajs consume with no work', value: ratio(peak(alloc), r.baselines.kafka?.consumePerSec), numerator: `${Math.round(peak(alloc))} events/s`, denominator: `${Math.round(r.baselines.kafka?.consumePerSec ?? NaN)} events/s` },
    { stage: 'projection consumption (peak step) ÷ kafkajs consume with no work', value: ratio(peak(proj), r.baselines.kafka?.consumePerSec), numerator: `${Math.round(peak(proj))} events/s`, denominator: `${Math.round(r.baselines.kafka?.consumePerSec ?? NaN)} events/s` },
  ];
}

/** Per process folder, the thread profile with the most busy time (the main thread, not tsx's loader). */
function readProfiles(dir: string): Report['profiles'] {
  const out: NonNullable<Report['profiles']> = {};
  for (const role of fs.readdirSync(dir).filter((d) => fs.statSync(path.join(dir, d)).isDirectory())) {
    let best: { p: CpuProfile; s: ReturnType<typeof selfTimes>; file: string } | null = null;
    for (const f of fs.readdirSync(path.join(dir, role)).filter((x) => x.endsWith('.cpuprofile'))) {
      const p = JSON.parse(fs.readFileSync(path.join(dir, role, f), 'utf8')) as CpuProfile;
      const s = selfTimes(p);
      if (!best || s.total > best.s.total) best = { p, s, file: `${role}/${f}` };
    }
    if (best) out[role] = { file: best.file, totalMs: best.s.total, idleMs: best.s.idle, top: best.s.functions.slice(0, 20), owners: selfTimesByOwner(best.p).slice(0, 20) };
  }
  return out;
}

function sampleEventValue(seed: { streamId: string; charities: { id: string; name: string }[]; products: { id: string }[] }): string {
  const iso = new Date().toISOString();
  return JSON.stringify({ eventId: `evt_${'x'.repeat(24)}`, type: 'order.paid', version: 1, occurredAt: iso, orderId: `o_${'x'.repeat(20)}`, orderVersion: 2, status: 'paid', charityId: seed.charities[0].id, charityName: seed.charities[0].name, streamId: seed.streamId, productId: seed.products[0].id, productName: '赣南脐橙 1', hostId: 'h_xxxxxxxxxx', viewerId: 'v_xxxxxxxxxx', buyerMasked: '观**', quantity: 2, unitPriceFen: 2990, pledgePerUnitFen: 300, totalFen: 5980, pledgeTotalFen: 600, createdAt: iso, expiresAt: iso, paidAt: iso, paymentId: `pay_o_${'x'.repeat(20)}`, idempotencyKey: 'k'.repeat(20), bodyHash: 'h'.repeat(64) });
}

function git(args: string[]): string {
  try { return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return 'nogit'; }
}
function uniqueDir(base: string): string {
  let d = base;
  for (let i = 2; fs.existsSync(d); i++) d = `${base}-${i}`;
  fs.mkdirSync(d, { recursive: true });
  return d;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    // a call that hangs must not hold the run past its bound
    const left = Math.max(1, end - Date.now());
    if (await Promise.race([fn().catch(() => false), sleep(left).then(() => false)])) return;
    await sleep(250);
  }
  throw new Error('timed out');
}

main().then((code) => process.exit(code), (err) => { console.error(err); process.exit(1); });
