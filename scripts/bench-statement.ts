/**
 * Time and peak memory of a charity statement over many ledger entries.
 *
 *   npx tsx scripts/bench-statement.ts --entries 1000000            # insert, then JSON, then PDF, then drop
 *   npx tsx scripts/bench-statement.ts --phase insert --db NAME --entries N   # or one phase at a time,
 *   /usr/bin/time -v npx tsx scripts/bench-statement.ts --phase json --db NAME # each under its own process
 *   npx tsx scripts/bench-statement.ts --phase synthetic --entries 1000000    # our side alone, no store
 *
 * Inserts chained entries (chainEntries, insertMany batches) into a scratch database of its own
 * (never the service's), then builds the statement the way the route does, sampling RSS and heap.
 */
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { chainEntries } from '../src/allocator/chain';
import { ChainHead, GENESIS, UnchainedEntry, entryKinds } from '../src/allocator/ledger.types';
import { buildStatement } from '../src/statements/build-statement';
import { appendEntries } from '../src/allocator';
import { StatementAccumulator } from '../src/statements/statement.math';
import { renderPdf } from '../src/statements/render-pdf';
import type { Deps } from '../src/deps';

const arg = (name: string, dflt?: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const entries = Number(arg('entries', '1000000'));
const phase = arg('phase', 'all')!;
const dbName = arg('db', `livegive_bench_stmt_${randomBytes(3).toString('hex')}`)!;
const mongoUrl = process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/';
const charityId = 'c_bench';
const start = Date.parse('2025-01-01T00:00:00.000Z');
const period = { from: new Date('2025-02-01T00:00:00.000Z'), to: new Date('2027-01-01T00:00:00.000Z') };

function sampler() {
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakHeap = base.heapUsed;
  const t = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 50);
  const t0 = process.hrtime.bigint();
  return () => {
    clearInterval(t);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const mb = (b: number) => (b / 1048576).toFixed(0);
    return `${(ms / 1000).toFixed(1)} s, peak RSS ${mb(peakRss)} MB (start ${mb(base.rss)} MB), peak heap ${mb(peakHeap)} MB (start ${mb(base.heapUsed)} MB)`;
  };
}

async function insert(client: MongoClient): Promise<void> {
  const db = client.db(dbName);
  const ledger = db.collection('ledger');
  await ledger.createIndex({ charityId: 1, seq: 1 }, { unique: true });
  await db.collection('charities').insertOne({ _id: charityId as never, name: '基准测试公益基金会', registrationNo: '53100000500021676Q', active: true, createdAt: new Date() });
  await db.collection('streams').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: `s${i}` as never, title: `助农直播 ${i}` })));
  await db.collection('products').insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: `p${i}` as never, name: `脐橙 ${i}`, unit: '箱', origin: '赣州' })));
  await db.collection('hosts').insertMany(Array.from({ length: 5 }, (_, i) => ({ _id: `h${i}` as never, name: `主播 ${i}` })));
  const done = sampler();
  let head: ChainHead = GENESIS;
  const step = (2 * 365 * 86400_000) / entries;
  for (let i = 0; i < entries; i += 10_000) {
    const raw: UnchainedEntry[] = [];
    for (let j = i; j < Math.min(entries, i + 10_000); j++) {
      const kind = entryKinds[j % 10 === 9 ? 1 : j % 10 === 8 ? 2 : 0];
      const amountFen = kind === 'reversal' ? -200 : 200 + (j % 97);
      raw.push({ key: `ev${j}:${kind}`, charityId, kind, amountFen, salesFen: kind === 'match' ? 0 : Math.sign(amountFen) * 4990, quantity: kind === 'match' ? 0 : Math.sign(amountFen), orderId: `o${j}`, streamId: `s${j % 20}`, productId: `p${j % 50}`, hostId: `h${j % 5}`, eventId: `ev${j}`, matchId: null, at: new Date(start + Math.floor(j * step)).toISOString() });
    }
    const chained = chainEntries(head, raw);
    head = { seq: chained[chained.length - 1].seq, hash: chained[chained.length - 1].hash };
    await appendEntries({ db }, chained); // the allocator's write path: entries with their keys, then derived documents
    if ((i / 10_000) % 10 === 0) process.stdout.write(`  inserted ${i + raw.length}\r`);
  }
  console.log(`insert ${entries} entries into ${dbName}: ${done()}`);
}

async function statement(client: MongoClient, pdf: boolean): Promise<void> {
  const deps = { db: client.db(dbName), logger: pino({ level: 'warn' }) } as unknown as Deps;
  const done = sampler();
  let n = 0;
  const s = await buildStatement(deps, charityId, period, () => { n++; });
  let bytes = 0;
  if (pdf) {
    await renderPdf(s, new Writable({ write(chunk: Buffer, _e, cb) { bytes += chunk.length; cb(); } }));
  } else {
    bytes = Buffer.byteLength(JSON.stringify(s));
  }
  console.log(`${pdf ? 'PDF ' : 'JSON'} statement over ${n} entries (${s.entries} in the period, closing ${s.closingFen} fen, ${bytes} bytes): ${done()}`);
}

/** Our side alone at full size: the same accumulator and PDF renderer fed from a generator instead of the store. */
async function synthetic(): Promise<void> {
  const done = sampler();
  const acc = new StatementAccumulator(charityId, period.from, period.to);
  const step = (2 * 365 * 86400_000) / entries;
  for (let j = 0; j < entries; j++) {
    const kind = entryKinds[j % 10 === 9 ? 1 : j % 10 === 8 ? 2 : 0];
    acc.add({ seq: j + 1, kind, amountFen: kind === 'reversal' ? -200 : 200 + (j % 97), quantity: 1, streamId: `s${j % 20}`, productId: `p${j % 50}`, hostId: `h${j % 5}`, at: new Date(start + Math.floor(j * step)).toISOString(), hash: randomBytes(32).toString('hex') });
  }
  const s = acc.finish({ streams: new Map(), hosts: new Map(), products: new Map() });
  const json = JSON.stringify(s);
  const mid = done();
  let bytes = 0;
  await renderPdf(s, new Writable({ write(chunk: Buffer, _e, cb) { bytes += chunk.length; cb(); } }));
  console.log(`synthetic ${entries} entries, no store: statement JSON ${json.length} bytes at ${mid}; with the PDF (${bytes} bytes): ${done()}`);
}

async function main(): Promise<void> {
  if (phase === 'synthetic') return synthetic();
  const client = await MongoClient.connect(mongoUrl, { directConnection: true });
  try {
    if (phase === 'all' || phase === 'insert') await insert(client);
    if (phase === 'all' || phase === 'json') await statement(client, false);
    if (phase === 'all' || phase === 'pdf') await statement(client, true);
    if (phase === 'all' || phase === 'drop') await client.db(dbName).dropDatabase();
  } finally {
    await client.close();
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
