// An honest receipt look-up while one IPv6 /64 floods receipt look-ups for unknown orders (16 concurrent loops, each
// from a new address), with the public-read limits off and then on, against the same data, in one run. Reports the
// honest client's latency against its no-flood baseline, and the service's CPU per flood request from /proc.
// Usage: npx tsx scripts/measure/public-read-flood.ts [orders=1500] [seconds=8]   (scripts/stack up first)
import { mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ServiceProcess, freePort } from '../chaos/processes';
import { call, rng } from '../chaos/http-client';
import { Sale } from '../chaos/sale';

const orders = Number(process.argv[2] ?? 1500);
const seconds = Number(process.argv[3] ?? 8);
const admin = 'measure-admin-token-0123456789';
const secret = 'measure-payment-secret-0123456789';
const ns = `flood_${randomBytes(4).toString('hex')}`;
const env = (limits: 'on' | 'off') => ({ LIVEGIVE_ADMIN_TOKEN: admin, LIVEGIVE_PAYMENT_SECRET: secret, LIVEGIVE_NAMESPACE: ns, LIVEGIVE_RATE_LIMITS: limits, LIVEGIVE_TRUST_PROXY: 'true', LIVEGIVE_LOG_LEVEL: 'warn', LIVEGIVE_TOPIC_PARTITIONS: '3', HOST: '127.0.0.1' });
const cpuMs = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return ((Number(f[11]) + Number(f[12])) * 1000) / 100; };
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

let phases = 0;
async function phase(svc: ServiceProcess, receipt: string, flood: boolean) {
  // each phase's honest client comes from an address of its own: its own look-ups stay under the limit
  const honestIp = `203.0.113.${++phases}`;
  const until = Date.now() + seconds * 1000;
  const honest: number[] = [];
  let honestStatus = 0;
  const floodStatus: Record<number, number> = {};
  const cpu0 = cpuMs(svc.proc!.pid!);
  await Promise.all([
    (async () => { while (Date.now() < until) { const t = Date.now(); const a = await call(svc.url, 'GET', `/api/v1/public/receipts/${receipt}`, { headers: { 'x-forwarded-for': honestIp } }); if (a.status === 200) honest.push(Date.now() - t); else honestStatus++; } })(),
    ...(flood ? Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; Date.now() < until; i++) {
        const a = await call(svc.url, 'GET', `/api/v1/public/receipts/o_nobody${w}x${i}`, { headers: { 'x-forwarded-for': `2001:db8:bad:1:${w.toString(16)}:${i.toString(16)}::1` } });
        floodStatus[a.status] = (floodStatus[a.status] ?? 0) + 1;
      }
    }) : []),
  ]);
  const floodRequests = Object.values(floodStatus).reduce((s, n) => s + n, 0);
  return { honestRefused: honestStatus, p50: pct(honest, 0.5), p95: pct(honest, 0.95), honest: honest.length, floodStatus, cpuMsPerFloodRequest: floodRequests ? (cpuMs(svc.proc!.pid!) - cpu0) / floodRequests : 0 };
}

async function main() {
  mkdirSync('.data', { recursive: true });
  let svc = new ServiceProcess('flood-off', 'all', env('off'), `.data/${ns}-off.log`, await freePort());
  await svc.start();
  try {
    const sale = new Sale(() => [svc.url], { adminToken: admin, paymentSecret: secret, random: rng(7) });
    const s = await sale.prepare({ charities: 1, products: 1, stock: orders + 10, viewers: 20, buyerLimit: 10_000 });
    let n = 0;
    // the orders the unknown-receipt look-ups have to search
    await Promise.all(s.viewers.map(async (v, w) => { while (n < orders) { n++; await call(svc.url, 'POST', '/api/v1/orders', { token: v.token, headers: { 'idempotency-key': `m-${w}-${n}` }, body: { streamId: s.streamId, productId: s.productIds[0], quantity: 1 } }); } }));
    const o = await call<{ id: string; totalFen: number }>(svc.url, 'POST', '/api/v1/orders', { token: s.viewers[0].token, headers: { 'idempotency-key': 'real' }, body: { streamId: s.streamId, productId: s.productIds[0], quantity: 1 } });
    if (!(await sale.pay(o.body.id, o.body.totalFen))) throw new Error('payment failed');
    for (let i = 0; i < 300 && (await call(svc.url, 'GET', `/api/v1/public/receipts/${o.body.id}`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 3000)); // let the projection settle
    const results: Record<string, unknown> = {};
    results['limits off, no flood'] = await phase(svc, o.body.id, false);
    results['limits off, flood'] = await phase(svc, o.body.id, true);
    await svc.stop();
    svc = new ServiceProcess('flood-on', 'all', env('on'), `.data/${ns}-on.log`, await freePort());
    await svc.start();
    results['limits on, no flood'] = await phase(svc, o.body.id, false);
    results['limits on, flood'] = await phase(svc, o.body.id, true);
    console.log(JSON.stringify({ orders, seconds, loadavg: loadavg().map((x) => x.toFixed(2)), results }, null, 1));
  } finally {
    await svc.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
