import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { signPayment } from '../../src/orders';
import { DemoClient } from '../../src/demo/demo-client';
import { seedDemo, type DemoWorld } from '../../src/demo/seed-demo';
import type { FeedFrame, StreamTotals } from '../../src/events';
import { startService, type TestService } from '../helpers/app';
import { ADMIN_TOKEN, PAYMENT_SECRET, testEnv, waitFor } from '../helpers/env';

/**
 * The real flow across processes' roles: two API instances and one workers instance sharing one
 * namespace. Orders are placed and paid over HTTP; the allocator turns them into ledger entries and
 * totals; each API instance hears the change over Redis pub/sub and pushes frames to its sockets.
 */

let workers: TestService;
let apiA: TestService;
let apiB: TestService;
let world: DemoWorld;

interface Feed { ws: WebSocket; frames: (FeedFrame & { at: number })[]; closed: Promise<number> }

function subscribe(base: string, streamId: string, since?: number): Promise<Feed> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/streams/${streamId}${since === undefined ? '' : `?since=${since}`}`);
    const frames: Feed['frames'] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (d) => frames.push({ ...JSON.parse(d.toString()), at: Date.now() }));
    ws.once('open', () => resolve({ ws, frames, closed }));
    ws.once('error', reject);
  });
}

const last = (f: Feed) => f.frames.at(-1);

/** Places an order through one instance and pays it with a signed notification; answers when the notify returned. */
async function buyAndPay(base: string, productIndex = 0, quantity = 1): Promise<{ orderId: string; pledgeFen: number; paidAt: number }> {
  const api = new DemoClient(base);
  const viewer = world.viewers[0];
  const product = world.products[productIndex];
  const order = await api.call<{ id: string; totalFen: number; pledge: { totalFen: number } }>('POST', '/api/v1/orders', {
    token: viewer.token, headers: { 'Idempotency-Key': randomUUID() }, body: { streamId: world.streamId, productId: product.id, quantity },
  });
  const raw = JSON.stringify({ orderId: order.id, paymentId: `pay-${randomUUID()}`, amountFen: order.totalFen, status: 'succeeded' });
  await api.call('POST', '/api/v1/payments/notify', { rawBody: raw, headers: { 'Livegive-Signature': signPayment(PAYMENT_SECRET, raw) } });
  return { orderId: order.id, pledgeFen: order.pledge.totalFen, paidAt: Date.now() };
}

/** Sum of every ledger entry of a charity, read page by page as the charity's portal would. */
async function ledgerSum(charityId: string): Promise<number> {
  const api = new DemoClient(apiA.url);
  let sum = 0;
  let after = 0;
  for (;;) {
    const page = await api.call<{ entries: { seq: number; amountFen: number }[]; next: number | null }>('GET', `/api/v1/charities/${charityId}/ledger?after=${after}&limit=500`, { token: ADMIN_TOKEN });
    for (const e of page.entries) sum += e.amountFen;
    if (!page.next || page.entries.length === 0) return sum;
    after = page.next;
  }
}

/** The totals once the allocator has counted the given number of paid orders. */
function settledTotals(base: string, orders: number): Promise<StreamTotals> {
  return waitFor(async () => {
    const t = await new DemoClient(base).call<StreamTotals>('GET', `/api/v1/streams/${world.streamId}/totals`);
    return t.orders === orders ? t : null;
  }, `${orders} paid orders in the totals`, 15000, 50);
}

async function expectEqualsLedger(t: StreamTotals): Promise<void> {
  for (const c of t.byCharity) expect(c.donationFen + c.matchedFen).toBe(await ledgerSum(c.charityId));
}

beforeAll(async () => {
  const env = testEnv();
  workers = await startService('workers', {}, env);
  [apiA, apiB] = await Promise.all([startService('api', {}, env), startService('api', {}, env)]);
  world = await seedDemo(new DemoClient(apiB.url), ADMIN_TOKEN, { viewers: 2 });
}, 60000);

afterAll(async () => {
  await Promise.all([apiA?.stop(), apiB?.stop()]);
  await workers?.stop();
});

describe('feed across instances', () => {
  it('when a payment is made through instance B, then a client on instance A sees it within 1 s, and both clients end with identical totals equal to the ledger', async () => {
    const onA = await subscribe(apiA.url, world.streamId);
    const onB = await subscribe(apiB.url, world.streamId);
    await waitFor(async () => onA.frames.length > 0 && onB.frames.length > 0, 'snapshots');
    expect(onA.frames[0].type).toBe('snapshot');
    const before = last(onA)!.totals.donationFen;

    const paid = await buyAndPay(apiB.url, 0, 2);
    const seen = await waitFor(async () => onA.frames.find((f) => f.totals.donationFen >= before + paid.pledgeFen), 'the payment on instance A', 5000, 10);
    expect(seen.at - paid.paidAt).toBeLessThan(1000);

    for (let i = 0; i < 6; i++) await buyAndPay(i % 2 ? apiA.url : apiB.url, i % 3, 1 + (i % 2));
    const truth = await settledTotals(apiA.url, 7);
    await waitFor(async () => last(onA)!.seq >= truth.seq && last(onB)!.seq >= truth.seq, 'both clients to catch up', 10000, 20);
    await new Promise((r) => setTimeout(r, 300)); // nothing further is in flight
    expect(last(onA)!.totals).toEqual(last(onB)!.totals);
    expect(last(onA)!.totals.orders).toBe(7);
    await expectEqualsLedger(last(onA)!.totals);
    for (const f of [onA, onB]) {
      const seqs = f.frames.map((x) => x.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      f.ws.close();
    }
  }, 60000);

  it('when a client disconnects for 5 s while orders are paid and reconnects with since, then it ends with the exact totals and its seq never goes backwards', async () => {
    const first = await subscribe(apiA.url, world.streamId);
    await waitFor(async () => first.frames.length > 0, 'snapshot');
    const lastSeq = last(first)!.seq;
    first.ws.close();
    await first.closed;

    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      await buyAndPay(i % 2 ? apiA.url : apiB.url, i % 3, 1);
      await new Promise((r) => setTimeout(r, Math.max(0, started + (i + 1) * 1000 - Date.now())));
    }
    const resumed = await subscribe(apiA.url, world.streamId, lastSeq);
    await waitFor(async () => resumed.frames.length > 0, 'a fresh snapshot after the gap');
    expect(resumed.frames[0].type).toBe('snapshot');
    expect(resumed.frames[0].seq).toBeGreaterThan(lastSeq);

    const truth = await settledTotals(apiB.url, 12);
    await waitFor(async () => last(resumed)!.seq >= truth.seq, 'the resumed client to reach the latest seq', 10000, 20);
    expect(last(resumed)!.totals).toEqual({ ...truth, seq: last(resumed)!.seq });
    expect(last(resumed)!.totals.orders).toBe(12);
    await expectEqualsLedger(last(resumed)!.totals);
    const seqs = resumed.frames.map((f) => f.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((x, y) => x - y));

    // a client already holding the latest seq gets nothing until something changes
    const upToDate = await subscribe(apiB.url, world.streamId, last(resumed)!.seq);
    await new Promise((r) => setTimeout(r, 300));
    expect(upToDate.frames).toEqual([]);
    resumed.ws.close();
    upToDate.ws.close();
  }, 60000);

  it('when the stream does not exist, then the socket closes with 4404 and the overlay page answers 404', async () => {
    const feed = await subscribe(apiA.url, 'st_missing');
    expect(await feed.closed).toBe(4404);
    const res = await fetch(`${apiA.url}/overlay/st_missing`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('NOT_FOUND');
  });
});
