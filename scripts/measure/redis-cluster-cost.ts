/**
 * The cluster profile against the single-Redis profile, in one run: the same service (role all) and the same
 * closed-loop workload of orders placed and paid, once on a private single redis-server and once on the
 * Redis Cluster of scripts/cluster/redis.sh (three masters, three replicas), alternating rounds. Reports
 * throughput and CPU per order from /proc (utime+stime) for the service process and for the Redis servers
 * (replicas included: replication is part of the cluster's cost), with the load average.
 *
 *   scripts/cluster/redis.sh up && npx tsx scripts/measure/redis-cluster-cost.ts [--orders 1500] [--concurrency 24] [--rounds 2] [--idle-seconds 8]
 */
import { readFileSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ServiceProcess, freePort } from '../chaos/processes';
import { Sale } from '../chaos/sale';
import { call, rng } from '../chaos/http-client';
import { PrivateRedis } from '../../test/helpers/redis-server';

const arg = (name: string, def: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : def; };
const ORDERS = arg('orders', 1500);
const CONCURRENCY = arg('concurrency', 24);
const ROUNDS = arg('rounds', 2);
const IDLE_S = arg('idle-seconds', 8);
const ROOT = path.resolve(__dirname, '../..');
const TICK_MS = 1000 / 100; // USER_HZ

const cpuMs = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * TICK_MS; };
const clusterPids = () => [7001, 7002, 7003, 7004, 7005, 7006].map((p) => Number(readFileSync(path.join(ROOT, '.data/redis-cluster', String(p), 'pid'), 'utf8')));

interface Result { profile: string; orders: number; seconds: number; perSec: number; serviceMsPerOrder: number; redisMsPerOrder: number; idleServiceMsPerS: number; idleRedisMsPerS: number; netMsPerOrder: number; errors: number }

async function round(profile: 'single' | 'cluster', single: PrivateRedis): Promise<Result> {
  const admin = `measure-admin-${randomBytes(8).toString('hex')}`;
  const secret = `measure-pay-${randomBytes(8).toString('hex')}`;
  const env = {
    LIVEGIVE_NAMESPACE: `m_${randomBytes(4).toString('hex')}`, LIVEGIVE_ADMIN_TOKEN: admin, LIVEGIVE_PAYMENT_SECRET: secret, LIVEGIVE_RATE_LIMITS: 'off',
    LIVEGIVE_LOG_LEVEL: 'warn', LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '1000', LIVEGIVE_TOPIC_PARTITIONS: '3', HOST: '127.0.0.1',
    ...(profile === 'single' ? { REDIS_URL: single.url, REDIS_CLUSTER_NODES: '' } : { REDIS_CLUSTER_NODES: execFileSync(path.join(ROOT, 'scripts/cluster/redis.sh'), ['env'], { encoding: 'utf8' }).trim().split('=')[1] }),
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lg-measure-'));
  const svc = new ServiceProcess(profile, 'all', env, path.join(dir, 'service.log'), await freePort());
  await svc.start();
  try {
    const sale = new Sale(() => [svc.url], { adminToken: admin, paymentSecret: secret, random: rng(5) });
    const s = await sale.prepare({ charities: 4, products: 16, stock: 1_000_000, viewers: 200, buyerLimit: 10_000 });
    let n = 0;
    let errors = 0;
    const codes: Record<string, number> = {};
    const work = async (count: number) => {
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (n < count) {
          const i = n++;
          const v = s.viewers[i % s.viewers.length];
          const o = await call<{ id: string; totalFen: number }>(svc.url, 'POST', '/api/v1/orders', { token: v.token, headers: { 'idempotency-key': `m-${i}-${randomBytes(4).toString('hex')}` }, body: { streamId: s.streamId, productId: s.productIds[i % s.productIds.length], quantity: 1 } });
          if (o.status !== 201) { errors++; const c = `${o.status} ${(o.body as { error?: { code?: string } }).error?.code ?? ''}`; codes[c] = (codes[c] ?? 0) + 1; continue; }
          if (!(await sale.pay(o.body.id, o.body.totalFen))) errors++;
        }
      }));
    };
    await work(200); // warm-up: JIT, connections, script cache
    n = 0;
    errors = 0;
    const redisPids = profile === 'single' ? [single.proc!.pid!] : clusterPids();
    // idle cost (sweeper walking 64 shards, recovery checks, cluster bus), measured apart and netted out below
    const idle0 = { svc: cpuMs(svc.proc!.pid!), redis: redisPids.reduce((a, p) => a + cpuMs(p), 0) };
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const idleSvc = (cpuMs(svc.proc!.pid!) - idle0.svc) / IDLE_S;
    const idleRedis = (redisPids.reduce((a, p) => a + cpuMs(p), 0) - idle0.redis) / IDLE_S;
    const cpu0 = { svc: cpuMs(svc.proc!.pid!), redis: redisPids.reduce((a, p) => a + cpuMs(p), 0) };
    const t0 = Date.now();
    await work(ORDERS);
    const seconds = (Date.now() - t0) / 1000;
    const svcMs = cpuMs(svc.proc!.pid!) - cpu0.svc;
    const redisMs = redisPids.reduce((a, p) => a + cpuMs(p), 0) - cpu0.redis;
    if (errors) console.log(`${profile}: ${errors} errors ${JSON.stringify(codes)}`);
    const net = (svcMs + redisMs - (idleSvc + idleRedis) * seconds) / ORDERS;
    return { profile, orders: ORDERS, seconds, perSec: ORDERS / seconds, serviceMsPerOrder: svcMs / ORDERS, redisMsPerOrder: redisMs / ORDERS, idleServiceMsPerS: idleSvc, idleRedisMsPerS: idleRedis, netMsPerOrder: net, errors };
  } finally {
    await svc.stop();
  }
}

async function main(): Promise<void> {
  const single = await PrivateRedis.start();
  const results: Result[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) for (const p of ['single', 'cluster'] as const) {
      const res = await round(p, single);
      results.push(res);
      console.log(`${p.padEnd(8)} ${res.orders} orders placed+paid in ${res.seconds.toFixed(1)} s = ${res.perSec.toFixed(0)}/s; CPU per order: service ${res.serviceMsPerOrder.toFixed(2)} ms, redis ${res.redisMsPerOrder.toFixed(2)} ms, net of idle ${res.netMsPerOrder.toFixed(2)} ms (idle: service ${res.idleServiceMsPerS.toFixed(1)}, redis ${res.idleRedisMsPerS.toFixed(1)} ms CPU/s); errors ${res.errors}; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    }
  } finally {
    await single.down({ wipe: true });
  }
  const mean = (p: string, f: (r: Result) => number) => { const xs = results.filter((r) => r.profile === p).map(f); return xs.reduce((a, b) => a + b, 0) / xs.length; };
  const row = (label: string, f: (r: Result) => number, digits: number) => console.log(`${label.padEnd(34)} single ${mean('single', f).toFixed(digits)}  cluster ${mean('cluster', f).toFixed(digits)}  ratio ${(mean('cluster', f) / mean('single', f)).toFixed(2)}`);
  console.log(`\nmeans over ${ROUNDS} alternating rounds, ${ORDERS} orders each at ${CONCURRENCY} in flight:`);
  row('throughput (orders/s)', (r) => r.perSec, 0);
  row('service CPU per order (ms)', (r) => r.serviceMsPerOrder, 2);
  row('redis CPU per order (ms, all nodes)', (r) => r.redisMsPerOrder, 2);
  row('service+redis CPU per order (ms)', (r) => r.serviceMsPerOrder + r.redisMsPerOrder, 2);
  row('the same net of idle CPU (ms)', (r) => r.netMsPerOrder, 2);
  row('idle CPU, service+redis (ms per s)', (r) => r.idleServiceMsPerS + r.idleRedisMsPerS, 1);
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
