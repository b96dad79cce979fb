import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Command } from 'commander';
import WebSocket from 'ws';
import { signPayment } from '../src/orders';
import { DemoClient } from '../src/demo/demo-client';
import { seedDemo } from '../src/demo/seed-demo';

/**
 * Feed latency under load: N WebSocket clients on one stream while the audience pays R orders a second.
 * Runs the API and the workers as separate real processes (their own namespace on the running stack),
 * measures, for every payment and every client, the time from sending the payment notification to the
 * arrival of the first frame that counts it, and samples the API process's resident memory.
 *
 *   npx tsx scripts/bench-feed.ts --clients 2000 --rate 200 --seconds 20
 *
 * Payments go to one charity (one Kafka partition), so the allocator counts them in the order their
 * notifications were answered: payment number k is in the first frame whose `orders` reaches k.
 */

const root = path.resolve(__dirname, '..');
const o = new Command().option('--clients <n>', 'WebSocket clients', '2000').option('--rate <n>', 'paid orders per second', '200')
  .option('--seconds <n>', 'measured seconds of load', '20').parse().opts<{ clients: string; rate: string; seconds: string }>();
const CLIENTS = Number(o.clients);
const RATE = Number(o.rate);
const SECONDS = Number(o.seconds);

const freePort = () => new Promise<number>((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

function run(role: string, env: NodeJS.ProcessEnv): ChildProcess {
  const p = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/main.ts'), '--role', role], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  p.on('exit', (code, sig) => { if (!stopping) console.error(`${role} exited (${code ?? sig})`); });
  return p;
}
let stopping = false;

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
    await sleep(1000);
    const rssIdle = rssMiB(api.pid!);

    // frames: seq → orders counted (parsed once per seq); arrivals bucketed per client below
    const ordersAtSeq = new Map<number, number>();
    const arrivals: { orders: number; at: number }[][] = [];
    const sockets: WebSocket[] = [];
    for (let i = 0; i < CLIENTS; i += 200) {
      await Promise.all(Array.from({ length: Math.min(200, CLIENTS - i) }, (_, j) => new Promise<void>((resolve, reject) => {
        const mine: { orders: number; at: number }[] = [];
        arrivals[i + j] = mine;
        const ws = new WebSocket(`ws://127.0.0.1:${port}/ws/streams/${world.streamId}`, { perMessageDeflate: false });
        ws.on('message', (data: Buffer) => {
          const at = performance.now();
          const seq = Number(/"seq":(\d+)/.exec(data.toString('latin1', 0, 48))?.[1]);
          let orders = ordersAtSeq.get(seq);
          if (orders === undefined) { orders = (JSON.parse(data.toString()) as { totals: { orders: number } }).totals.orders; ordersAtSeq.set(seq, orders); }
          mine.push({ orders, at });
        });
        ws.once('open', () => resolve());
        ws.once('error', reject);
        sockets.push(ws);
      })));
    }
    await sleep(2000);
    const rssConnected = rssMiB(api.pid!);
    console.log(`${CLIENTS} clients connected; API RSS idle ${rssIdle.toFixed(0)} MiB, with clients ${rssConnected.toFixed(0)} MiB`);

    // load: a fixed schedule of order + signed payment, one charity
    const sentAt: number[] = []; // by answer order: the send time of the k-th answered notification
    let failures = 0;
    let rssPeak = rssConnected;
    const rssTimer = setInterval(() => { rssPeak = Math.max(rssPeak, rssMiB(api.pid!)); }, 500);
    const inflight = new Set<Promise<void>>();
    const start = performance.now();
    let due = 0;
    while (performance.now() - start < SECONDS * 1000) {
      const target = Math.floor(((performance.now() - start) / 1000) * RATE);
      for (; due < target; due++) {
        const viewer = world.viewers[due % world.viewers.length];
        const p = (async () => {
          try {
            const order = await client.call<{ id: string; totalFen: number }>('POST', '/api/v1/orders', { token: viewer.token, headers: { 'Idempotency-Key': randomUUID() }, body: { streamId: world.streamId, productId: product.id, quantity: 1 } });
            const raw = JSON.stringify({ orderId: order.id, paymentId: `bench-${randomUUID()}`, amountFen: order.totalFen, status: 'succeeded' });
            const t = performance.now();
            await client.call('POST', '/api/v1/payments/notify', { rawBody: raw, headers: { 'Livegive-Signature': signPayment(env.LIVEGIVE_PAYMENT_SECRET, raw) } });
            sentAt.push(t);
          } catch (err) {
            if (failures++ < 5) console.error(`order failed: ${(err as Error).message}`);
          }
        })().finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await sleep(5);
    }
    await Promise.all([...inflight]);
    const paid = sentAt.length;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !arrivals.every((a) => (a.at(-1)?.orders ?? 0) >= paid)) await sleep(100);
    clearInterval(rssTimer);

    // delay of payment k at one client = arrival of its first frame with orders ≥ k − send time of k
    const hist = new Uint32Array(60_001);
    let samples = 0;
    let missing = 0;
    for (const frames of arrivals) {
      let k = 0;
      for (const f of frames) {
        for (; k < Math.min(f.orders, paid); k++) { hist[Math.min(60_000, Math.max(0, Math.round(f.at - sentAt[k])))]++; samples++; }
      }
      missing += paid - k;
    }
    const pct = (q: number) => { let acc = 0; for (let ms = 0; ms < hist.length; ms++) { acc += hist[ms]; if (acc >= q * samples) return ms; } return NaN; };
    console.log(`paid ${paid} orders in ${SECONDS} s (${(paid / SECONDS).toFixed(0)}/s), ${failures} failed; ${samples} payment×client samples, ${missing} never seen`);
    console.log(`payment notification → frame at client: p50 ${pct(0.5)} ms, p90 ${pct(0.9)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms`);
    console.log(`frames per client: ${(arrivals.reduce((a, f) => a + f.length, 0) / CLIENTS).toFixed(0)} (${ordersAtSeq.size} distinct seqs)`);
    console.log(`API process RSS: idle ${rssIdle.toFixed(0)} MiB, ${CLIENTS} clients ${rssConnected.toFixed(0)} MiB, peak under load ${rssPeak.toFixed(0)} MiB`);
    for (const ws of sockets) ws.terminate();
  } finally {
    stopping = true;
    api.kill('SIGTERM');
    workers.kill('SIGTERM');
  }
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
