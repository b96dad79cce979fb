import { MongoClient } from 'mongodb';
import { latestOrderStates } from '../../src/orders/orders.models';
import WebSocket from 'ws';
import type { LedgerEntry } from '../../src/allocator/ledger.types';
import type { FeedFrame, StreamTotals } from '../../src/events';
import { call, sleep } from './http-client';
import { checkInvariants, Facts, Problem, StoredOrder } from './invariants';
import type { Sale } from './sale';

/** Keeps the latest totals of a stream from the WebSocket feed, reconnecting (with ?since) to whichever API answers. */
export class FeedWatcher {
  latest: StreamTotals | null = null;
  seq = -1;
  frames = 0;
  reconnects = 0;
  private ws: WebSocket | null = null;
  private closed = false;

  constructor(private readonly urls: () => string[], private readonly streamId: string) {}

  start(): void { this.connect(0); }

  private connect(attempt: number): void {
    if (this.closed) return;
    const list = this.urls();
    const base = list[attempt % list.length].replace(/^http/, 'ws');
    const ws = new WebSocket(`${base}/ws/streams/${this.streamId}${this.seq >= 0 ? `?since=${this.seq}` : ''}`);
    this.ws = ws;
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as FeedFrame;
      if ((f.type === 'snapshot' || f.type === 'totals') && f.seq >= this.seq) { this.seq = f.seq; this.latest = f.totals; this.frames++; }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      if (this.closed) return;
      this.reconnects++;
      setTimeout(() => this.connect(attempt + 1), 200).unref();
    });
  }

  close(): void { this.closed = true; this.ws?.terminate(); }
}

/** Reads what the invariant compares: MongoDB's orders, ledger and products, the API's stock and totals, the feed's totals. */
export async function gatherFacts(mongoUrl: string, apiUrl: string, sale: Sale, feed: FeedWatcher | null): Promise<Facts> {
  const client = new MongoClient(mongoUrl, { directConnection: true, serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    const db = client.db();
    // the projection keeps one document per (order, version); an order's state is its highest version
    const orders: StoredOrder[] = [...(await latestOrderStates(db)).values()].map((o) => ({
      _id: o.orderId, status: o.status, charityId: o.charityId, streamId: o.streamId, productId: o.productId, quantity: o.quantity, totalFen: o.totalFen, pledgeTotalFen: o.pledgeTotalFen,
    }));
    const ledger = (await db.collection('ledger').find({}).toArray()).map((d) => {
      const { _id, at, ...rest } = d as unknown as Omit<LedgerEntry, 'key' | 'at'> & { _id: string; at: Date };
      return { ...rest, key: _id, at: at.toISOString() } as LedgerEntry;
    });
    const stockDocs = await db.collection<{ _id: string; stock: number }>('products').find({ _id: { $in: sale.setup.productIds } }, { projection: { stock: 1 } }).toArray();
    const stream = await call<{ products: { id: string; remaining: number }[] }>(apiUrl, 'GET', `/api/v1/streams/${sale.setup.streamId}`);
    const remaining = new Map((stream.body.products ?? []).map((p) => [p.id, p.remaining]));
    const products = new Map(stockDocs.map((p) => [p._id, { stock: p.stock, remaining: remaining.get(p._id) ?? Number.NaN }]));
    const totals = await call<StreamTotals>(apiUrl, 'GET', `/api/v1/streams/${sale.setup.streamId}/totals`);
    return {
      products, orders, ledger,
      totals: new Map([[sale.setup.streamId, { api: totals.status === 200 ? totals.body : null, ws: feed ? feed.latest : totals.body }]]),
      client: sale.record,
    };
  } finally {
    await client.close();
  }
}

/** Gathers and checks until the invariant holds or `timeoutMs` passes (consumers catch up meanwhile); answers the last result. */
export async function settleAndCheck(mongoUrl: string, apiUrl: () => string, sale: Sale, feed: FeedWatcher | null, timeoutMs = 60_000): Promise<{ problems: Problem[]; facts: Facts; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    let facts: Facts | null = null;
    let problems: Problem[];
    try {
      facts = await gatherFacts(mongoUrl, apiUrl(), sale, feed);
      problems = checkInvariants(facts);
    } catch (e) {
      problems = [{ check: 'gather', subject: 'facts', message: (e as Error).message }];
    }
    if ((problems.length === 0 && facts) || Date.now() - started > timeoutMs) return { problems, facts: facts!, waitedMs: Date.now() - started };
    await sleep(1000);
  }
}

/** One line per problem, naming the order, entry or total that is off. */
export function formatProblems(problems: Problem[], max = 40): string {
  if (!problems.length) return 'invariant holds';
  const lines = problems.slice(0, max).map((p) => `  ✗ [${p.check}] ${p.subject}: ${p.message}`);
  if (problems.length > max) lines.push(`  … and ${problems.length - max} more`);
  const byCheck = new Map<string, number>();
  for (const p of problems) byCheck.set(p.check, (byCheck.get(p.check) ?? 0) + 1);
  const summary = [...byCheck].map(([c, n]) => `${c} ×${n}`).join(', ');
  return `invariant broken (${problems.length} problems: ${summary}):\n${lines.join('\n')}`;
}
