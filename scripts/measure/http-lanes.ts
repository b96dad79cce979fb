/**
 * CPU per request of the HTTP layer alone, the way the hot lane (src/infra/hot-lane.ts) is justified: one small JSON
 * POST answered 201 by (a) Node's own server reading and parsing the body, (b) the same plus express's request setup
 * (req and res given express's prototypes, as express does per request), (c) an express app with one route, and
 * (d) express as the api builds it (request id, metrics hook, express.json, 4 app routes, 25 router routes before
 * the matched one). Each server is its own process; autocannon (20 keep-alive connections) sends a fixed number of
 * requests; the server's CPU comes from process.cpuUsage around them. No store is involved.
 * Usage: npx tsx scripts/measure/http-lanes.ts [requests per server, default 20000] [rounds, default 2]
 */
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import express from 'express';
import autocannon from 'autocannon';

type Mode = 'node' | 'node+express-prototypes' | 'express, one route' | 'express as the api';
const modes: Mode[] = ['node', 'node+express-prototypes', 'express, one route', 'express as the api'];

function answer(res: http.ServerResponse, body: unknown): void {
  const text = JSON.stringify({ id: 'o_1', status: 'reserved', body });
  res.writeHead(201, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function server(mode: Mode): http.RequestListener {
  if (mode === 'node' || mode === 'node+express-prototypes') {
    const app = express();
    return (req, res) => {
      if (mode === 'node+express-prototypes') {
        Object.assign(req, { res }); Object.assign(res, { req });
        Object.setPrototypeOf(req, app.request); Object.setPrototypeOf(res, app.response);
      }
      res.setHeader('X-Request-Id', randomUUID());
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => answer(res, JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    };
  }
  const app = express();
  app.disable('x-powered-by');
  if (mode === 'express as the api') {
    app.use((_req, res, next) => { res.setHeader('X-Request-Id', randomUUID()); res.once('close', () => undefined); next(); });
    app.use((_req, res, next) => { res.on('finish', () => undefined); next(); });
    app.use(express.json({ limit: '16kb' }));
    for (let i = 0; i < 4; i++) app.get(`/ops${i}`, (_req, res) => { res.json({}); });
    const router = express.Router();
    for (let i = 0; i < 25; i++) router.post(`/api/v1/things${i}/:id`, (_req, res) => { res.json({}); });
    router.post('/api/v1/orders', (req, res) => { res.status(201).json({ id: 'o_1', status: 'reserved', body: req.body }); });
    app.use(router);
  } else {
    app.use(express.json());
    app.post('/api/v1/orders', (req, res) => { res.status(201).json({ id: 'o_1', status: 'reserved', body: req.body }); });
  }
  return app;
}

async function child(mode: Mode): Promise<void> {
  const s = http.createServer(server(mode)).listen(0, '127.0.0.1', () => process.send!((s.address() as { port: number }).port));
  process.on('message', () => { const u = process.cpuUsage(); process.send!((u.user + u.system) / 1000); });
}

async function measure(mode: Mode, requests: number): Promise<{ mode: Mode; usPerRequest: number; load: number }> {
  const c = fork(__filename, ['--child', mode], { execArgv: process.execArgv });
  const port = await new Promise<number>((r) => c.once('message', (m) => r(m as number)));
  const cpu = () => new Promise<number>((r) => { c.once('message', (m) => r(m as number)); c.send('cpu'); });
  const opts: autocannon.Options = {
    url: `http://127.0.0.1:${port}/api/v1/orders`, method: 'POST', connections: 20,
    headers: { 'content-type': 'application/json', authorization: 'Bearer lg_viewer_0123456789abcdef0123456789abcdef' },
    body: JSON.stringify({ streamId: 's_0123456789abcdef', productId: 'p_0123456789abcdef', quantity: 1 }),
  };
  await new Promise((r) => autocannon({ ...opts, amount: 3000 }, r)); // warm-up
  const a = await cpu();
  const res = await new Promise<autocannon.Result>((r, j) => autocannon({ ...opts, amount: requests }, (e, x) => (e ? j(e) : r(x))));
  const b = await cpu();
  c.kill();
  return { mode, usPerRequest: Math.round(((b - a) * 1000) / res.requests.total), load: os.loadavg()[0] };
}

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 20000);
  const rounds = Number(process.argv[3] ?? 2);
  console.log(`| round | ${modes.join(' | ')} | load average (1 min) |\n| --- | ${modes.map(() => '---').join(' | ')} | --- |`);
  for (let round = 1; round <= rounds; round++) {
    const row: number[] = [];
    const loads: number[] = [];
    for (const m of modes) { const r = await measure(m, requests); row.push(r.usPerRequest); loads.push(r.load); }
    console.log(`| ${round} | ${row.map((us) => `${us} µs`).join(' | ')} | ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} |`);
  }
}

if (process.argv[2] === '--child') void child(process.argv[3] as Mode);
else void main();
