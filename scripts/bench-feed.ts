import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Command } from 'commander';
import WebSocket from 'ws';
import Redis from 'ioredis';
import { loadConfig } from '../src/config';
import { keyspace } from '../src/infra/redis';
import { totalsChannel } from '../src/allocator';
import { signPayment } from '../src/orders';
import { DemoClient } from '../src/demo/demo-client';
import { seedDemo } from '../src/demo/seed-demo';

/**
 * Feed latency under load: N WebSocket clients on one stream while the audience pays R orders a second.
 * Runs the API and the workers as separate real processes (their own namespace on the running stack),
 * measures, for every payment and every client, the time from sending the payment notification to the
 * arrival of the first frame that counts it, and samples the API process's resident memory.
 *
 *   npx tsx scripts/bench-feed.ts --clients 2000 --rate 200 --seconds 20 [--max-inflight 2000]
 *
 * Payments go to one charity (one Kafka partition), so the allocator counts them in the order their
 * notifications were answered: payment number k is in the first frame whose `orders` reaches k.
 */

const root = path.resolve(__dirname, '..');
const o = new Command().option('--clients <n>', 'WebSocket clients', '2000').option('--rate <n>', 'paid orders per second', '200')
  .option('--seconds <n>', 'measured seconds of load', '20')
  .option('--max-inflight <n>', 'unanswered orders before the generator stops sending', '2000').parse().opts<{ clients: string; rate: string; seconds: string; maxInflight: string }>();
const CLIENTS = Number(o.clients);
const RATE = Number(o.rate);
const SECONDS = Number(o.seconds);
const MAX_INFLIGHT = Number(o.maxInflight);

const freePort = () => new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** CPU seconds (user + system) the process has used so far. */
const cpuSeconds = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

function run(role: string, env: NodeJS.ProcessEnv): ChildProcess {
  const p = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts'), '--role', role], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  p.on('exit', (code, sig) => { if (!stopping) console.error(`${role} exited (${code ?? sig})`); });
  return p;
}
let stopping = false;

/** Places one order and pays it; answers the time the payment notification was sent. */
async function payOne(client: DemoClient, streamId: string, productId: string, token: string, secret: string): Promise<number> {
  const order = await client.call<{ id: string; totalFen: number }>('POST', '/api/v1/orders', { token, headers: { 'Idempotency-Key': randomUUID() }, body: { streamId, productId, quantity: 1 } });
  const raw = JSON.stringify({ orderId: order.id, paymentId: `bench-${randomUUID()}`, amountFen: order.totalFen, status: 'succeeded' });
  const t = performance.timeOrigin + performance.now();
  await client.call('POST', '/api/v1/payments/notify', { rawBody: raw, headers: { 'Livegive-Signature': signPayment(secret, raw) } });
  return t;
}

async function main(): Promise<void> {
  const port = await freePort();
  const env = {
    LIVEGIVE_NAMESPACE: `bench_feed_${randomBytes(3).toString('hex')}`, LIVEGIVE_ADMIN_TOKEN: randomBytes(16).toString('hex'), LIVEGIVE_PAYMENT_SECRET: randomBytes(16).toString('hex'),
    PORT: String(port), HOST: '127.0.0.1', LIVEGIVE_RATE_LIMITS: 'off', LIVEGIVE_WS_MAX_PER_IP: String(CLIENTS + 100), LIVEGIVE_LOG_LEVEL: 'warn', LIVEGIVE_TOPIC_PARTITIONS: '3',
  };
  const workers = run('workers', env);
  const api = run('api', env);
  const base = `http://127.0.0.1:${port}`;
  const client = new DemoClient(base);
  try {
    for (let i = 0; ; i++) {
      if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break;
      if (i > 300) throw new Error('the API did not become ready');
      await sleep(200);
    }
    const world = await seedDemo(client, env.LIVEGIVE_ADMIN_TOKEN, { viewers: 20 });
    const product = world.products[0];
    // when each totals change was published (seq → time), to split the delay into allocator and feed
    const config = loadConfig({ ...process.env, ...env });
    const channel = totalsChannel({ key: keyspace(config.redis.prefix) });
    // warm-up: the allocator's consumer group has joined once a first payment shows in the totals
    await payOne(client, world.streamId, product.id, world.viewers[0].token, env.LIVEGIVE_PAYMENT_SECRET);
    for (let i = 0; ; i++) {
      const t = await client.call<{ orders: number }>('GET', `/api/v1/streams/${world.streamId}/totals`);
      if (t.orders >= 1) break;
      if (i > 600) throw new Error('the allocator never counted the warm-up payment');
      await sleep(100);
    }
    await sleep(1000);
    const rssIdle = rssMiB(api.pid!);

    // the clients run in a worker thread, so the load generator here cannot delay their clocks
    const clients = new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(__filename)});`, { eval: true, workerData: { port, streamId: world.streamId, count: CLIENTS, redisUrl: config.redis.url, channel } });
    const fromClients = (type: string) => new Promise<ClientReport>((resolve, reject) => {
      const onMsg = (m: ClientReport) => { if (m.type === type) { clients.off('message', onMsg); resolve(m); } };
      clients.on('message', onMsg);
      clients.once('error', reject);
    });
    await fromClients('connected');
    await sleep(2000);
    const rssConnected = rssMiB(api.pid!);
    console.log(`${CLIENTS} clients connected; API RSS idle ${rssIdle.toFixed(0)} MiB, with clients ${rssConnected.toFixed(0)} MiB`);

    // load: a fixed schedule of order + signed payment, one charity
    const sentAt: number[] = []; // by answer order: the send time of the k-th answered notification
    let failures = 0;
    let shed = 0;
    const failedBy = new Map<string, number>();
    let rssPeak = rssConnected;
    let lagP99 = 0; // the API's event-loop delay (prom-client's p99 since the previous scrape)
    const rssTimer = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssMiB(api.pid!));
      void fetch(`${base}/metrics`).then((r) => r.text()).then((m) => { lagP99 = Math.max(lagP99, Number(/^livegive_nodejs_eventloop_lag_p99_seconds (\S+)/m.exec(m)?.[1] ?? 0)); }, () => undefined);
    }, 1000);
    const inflight = new Set<Promise<void>>();
    const start = performance.now();
    const cpu0 = cpuSeconds(api.pid!);
    let due = 0;
    while (performance.now() - start < SECONDS * 1000) {
      const target = Math.floor(((performance.now() - start) / 1000) * RATE);
      for (; due < target; due++) {
        // open loop, but bounded: past this many unanswered orders the server is saturated and more would only queue
        if (inflight.size >= MAX_INFLIGHT) { shed++; continue; }
        const viewer = world.viewers[due % world.viewers.length];
        const p = (async () => {
          try {
            sentAt.push(await payOne(client, world.streamId, product.id, viewer.token, env.LIVEGIVE_PAYMENT_SECRET));
          } catch (err) {
            failures++;
            const cause = (err as Error & { cause?: { code?: string } }).cause?.code;
            const why = (err as Error).message.replace(/:.*$/, '') + (cause ? ` (${cause})` : '');
            failedBy.set(why, (failedBy.get(why) ?? 0) + 1);
          }
        })().finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await sleep(5);
    }
    await Promise.all([...inflight]);
    const apiCores = (cpuSeconds(api.pid!) - cpu0) / ((performance.now() - start) / 1000);
    const paid = sentAt.length + 1; // with the warm-up payment, counted first
    sentAt.unshift(NaN);
    const done = fromClients('report');
    clients.postMessage({ type: 'finish', orders: paid, waitMs: 30_000 });
    const { arrivals, ordersAtSeq: ordersList, publishedAt: pubList } = await done;
    const ordersAtSeq = new Map(ordersList);
    const publishedAt = new Map(pubList);
    clearInterval(rssTimer);

    // delay of payment k at one client = arrival of its first frame with orders ≥ k − send time of k
    const hist = new Uint32Array(60_001);
    let samples = 0;
    let missing = 0;
    for (const frames of arrivals) {
      let k = 0;
      for (const f of frames) {
        for (; k < Math.min(f.orders, paid); k++) { if (k === 0) continue; hist[Math.min(60_000, Math.max(0, Math.round(f.at - sentAt[k])))]++; samples++; }
      }
      missing += paid - k;
    }
    const pct = (q: number) => { let acc = 0; for (let ms = 0; ms < hist.length; ms++) { acc += hist[ms]; if (acc >= q * samples) return ms; } return NaN; };
    console.log(`paid ${paid} orders in ${SECONDS} s (${(paid / SECONDS).toFixed(0)}/s); ${failures} failed${failures ? ` (${[...failedBy].map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}, ${shed} not sent (${MAX_INFLIGHT} unanswered); ${samples} payment×client samples, ${missing} never seen`);
    if (failures) console.log('  (a failed payment may still be counted later, which blurs the payment → frame matching: read the split below)');
    console.log(`payment notification → frame at client: p50 ${pct(0.5)} ms, p90 ${pct(0.9)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms`);
    // allocator: notification → first published totals that count it; feed: publish of a seq → frame with it
    const pubs = [...publishedAt.entries()].sort((a, b) => a[0] - b[0]);
    const alloc: number[] = [];
    let j = 0;
    for (let k = 1; k < paid; k++) {
      while (j < pubs.length && (ordersAtSeq.get(pubs[j][0]) ?? -1) < k + 1) j++;
      if (j < pubs.length) alloc.push(pubs[j][1] - sentAt[k]);
    }
    const feed: number[] = [];
    // the first frame of each client is its snapshot of a seq published before it connected: not a delivery
    for (const frames of arrivals) for (const f of frames.slice(1)) { const t = publishedAt.get(f.seq); if (t !== undefined) feed.push(f.at - t); }
    const q = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]) : NaN; };
    console.log(`  of which notification → totals published (allocator, sampled where seq→orders is known): p50 ${q(alloc, 0.5)} ms, p99 ${q(alloc, 0.99)} ms (${alloc.length})`);
    console.log(`  of which totals published → frame at client (feed): p50 ${q(feed, 0.5)} ms, p99 ${q(feed, 0.99)} ms (${feed.length} frames)`);
    console.log(`frames per client: ${(arrivals.reduce((a, f) => a + f.length, 0) / CLIENTS).toFixed(0)} (${ordersAtSeq.size} distinct seqs)`);
    console.log(`API event-loop delay p99 (worst 1 s window): ${Math.round(lagP99 * 1000)} ms; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${os.cpus().length} cores`);
    console.log(`API process CPU during the load: ${apiCores.toFixed(2)} cores`);
    console.log(`API process RSS: idle ${rssIdle.toFixed(0)} MiB, ${CLIENTS} clients ${rssConnected.toFixed(0)} MiB, peak under load ${rssPeak.toFixed(0)} MiB`);
    await clients.terminate();
  } finally {
    stopping = true;
    api.kill('SIGTERM');
    workers.kill('SIGTERM');
  }
}

interface ClientReport { type: string; arrivals: { seq: number; orders: number; at: number }[][]; ordersAtSeq: [number, number][]; publishedAt: [number, number][] }

/** Worker thread: opens the clients, timestamps every frame, reports when all have seen the last payment. */
async function clientThread(): Promise<void> {
  const { port, streamId, count, redisUrl, channel } = workerData as { port: number; streamId: string; count: number; redisUrl: string; channel: string };
  // when each totals change was published, seen from this thread so both ends of the feed share one clock and one scheduler
  const publishedAt = new Map<number, number>();
  const sub = new Redis(redisUrl);
  sub.on('message', (_ch: string, m: string) => { const { seq } = JSON.parse(m) as { seq: number }; if (!publishedAt.has(seq)) publishedAt.set(seq, performance.timeOrigin + performance.now()); });
  await sub.subscribe(channel);
  const ordersAtSeq = new Map<number, number>(); // parsed once per seq: every client gets the same frame
  const arrivals: ClientReport['arrivals'] = [];
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, j) => new Promise<void>((resolve, reject) => {
      const mine: ClientReport['arrivals'][number] = [];
      arrivals[i + j] = mine;
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/streams/${streamId}`, { perMessageDeflate: false });
      ws.on('message', (data: Buffer) => {
        const at = performance.timeOrigin + performance.now();
        const seq = Number(/"seq":(\d+)/.exec(data.toString('latin1', 0, 48))?.[1]);
        let orders = ordersAtSeq.get(seq);
        if (orders === undefined) { orders = (JSON.parse(data.toString()) as { totals: { orders: number } }).totals.orders; ordersAtSeq.set(seq, orders); }
        mine.push({ seq, orders, at });
      });
      ws.once('open', () => resolve());
      ws.once('error', reject);
      sockets.push(ws);
    })));
  }
  parentPort!.postMessage({ type: 'connected', arrivals: [], ordersAtSeq: [], publishedAt: [] });
  parentPort!.on('message', async (m: { type: string; orders: number; waitMs: number }) => {
    if (m.type !== 'finish') return;
    const deadline = Date.now() + m.waitMs;
    while (Date.now() < deadline && !arrivals.every((a) => (a.at(-1)?.orders ?? 0) >= m.orders)) await sleep(100);
    for (const ws of sockets) ws.terminate();
    sub.disconnect();
    parentPort!.postMessage({ type: 'report', arrivals, ordersAtSeq: [...ordersAtSeq], publishedAt: [...publishedAt] });
  });
}

if (isMainThread) main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
else void clientThread();
