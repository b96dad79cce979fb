import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config';
import { createDeps, closeDeps, type Deps } from '../../src/deps';
import { attachFeedGateway, type FeedGateway } from '../../src/feed/feed.gateway';
import type { StreamTotals } from '../../src/events';
import { testEnv, waitFor } from '../helpers/env';

/**
 * The gateway against real Redis pub/sub and real sockets. Totals come from a key this test writes, so
 * the feed's own rules (slow consumers, limits, bad input, heartbeats) are exercised at full speed; the
 * real order → ledger → frame flow is covered by feed.flow.test.ts.
 */

let deps: Deps;
let server: http.Server;
let gateway: FeedGateway;
let pub: Redis;
let base: string;
const channel = () => `${deps.config.redis.prefix}totals`;
const pad = 'x'.repeat(300);
v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

function totals(streamId: string, seq: number, recentCount = 0): StreamTotals {
  return {
    streamId, seq, status: 'live', goalFen: 1_000_000, salesFen: seq * 990, units: seq, orders: seq, donationFen: seq * 100, matchedFen: 0,
    confirmedDonationFen: 0, byCharity: [{ charityId: 'c1', name: '壹基金', donationFen: seq * 100, matchedFen: 0 }], byProduct: [], matches: [],
    recent: Array.from({ length: recentCount }, (_, i) => ({ buyer: '张**', productName: `赣南脐橙 ${pad}`, quantity: 1, donationFen: 100, at: new Date(i).toISOString() })),
  };
}

/** Stores what the reader turns into totals (small, so 5,000 updates cost the publisher little), then notifies. */
async function setTotals(streamId: string, seq: number, recentCount = 0): Promise<void> {
  await pub.set(deps.key('feedtest', streamId), JSON.stringify({ seq, recentCount }));
  await pub.publish(channel(), JSON.stringify({ streamId, seq }));
}

interface Client { ws: WebSocket; frames: { type: string; seq: number; at: number }[]; closed: Promise<{ code: number; reason: string }> }

function connect(path: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base + path);
    const frames: Client['frames'] = [];
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString());
      frames.push({ type: f.type, seq: f.seq, at: Date.now() });
    });
    ws.once('open', () => resolve({ ws, frames, closed }));
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}

beforeAll(async () => {
  deps = await createDeps(loadConfig(testEnv({ LIVEGIVE_FEED_INTERVAL_MS: '20', LIVEGIVE_WS_MAX_PER_IP: '100' })));
  pub = new Redis(deps.config.redis.url);
  server = http.createServer((_req, res) => res.end());
  gateway = await attachFeedGateway(server, deps, {
    channel: channel(),
    reader: async (id) => {
      const s = await deps.redis.get(deps.key('feedtest', id));
      if (!s) return null;
      const { seq, recentCount } = JSON.parse(s) as { seq: number; recentCount: number };
      return totals(id, seq, recentCount);
    },
    softLimitBytes: 256 * 1024, hardLimitBytes: 64 * 1024 * 1024, stallMs: 3000,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await gateway.stop();
  server.close();
  pub.disconnect();
  await closeDeps(deps);
});

describe('feed gateway', () => {
  it('when a client connects, then it gets a snapshot, then updates with a growing seq; since skips what it already has', async () => {
    await setTotals('s_basic', 3);
    const a = await connect('/ws/streams/s_basic');
    await waitFor(async () => a.frames.length === 1, 'snapshot');
    expect(a.frames[0]).toMatchObject({ type: 'snapshot', seq: 3 });
    await setTotals('s_basic', 4);
    await waitFor(async () => a.frames.length === 2, 'update');
    expect(a.frames[1]).toMatchObject({ type: 'totals', seq: 4 });
    const resumed = await connect('/ws/streams/s_basic?since=4');
    const behind = await connect('/ws/streams/s_basic?since=2');
    await waitFor(async () => behind.frames.length === 1, 'snapshot for a client that missed something');
    await new Promise((r) => setTimeout(r, 100));
    expect(resumed.frames).toEqual([]);
    expect(behind.frames[0]).toMatchObject({ type: 'snapshot', seq: 4 });
    for (const c of [a, resumed, behind]) c.ws.close();
  });

  it('when the stream does not exist, then the socket is closed cleanly with 4404 and a reason; a malformed id or since gets 422 before upgrade', async () => {
    const c = await connect('/ws/streams/no_such_stream');
    expect(await c.closed).toEqual({ code: 4404, reason: 'unknown stream' });
    await expect(connect('/ws/streams/a%20b')).rejects.toMatchObject({ status: 422 });
    await expect(connect('/ws/streams/s_basic?since=-1')).rejects.toMatchObject({ status: 422 });
    await expect(connect('/ws/other')).rejects.toMatchObject({ status: 404 });
  });

  it('when a client sends a 1 MB frame or any message at all, then it is closed (1009, 1008) and others keep receiving', async () => {
    await setTotals('s_bad', 1);
    const good = await connect('/ws/streams/s_bad');
    const big = await connect('/ws/streams/s_bad');
    big.ws.send(Buffer.alloc(1024 * 1024, 1));
    expect((await big.closed).code).toBe(1009);
    const chatty = await connect('/ws/streams/s_bad');
    chatty.ws.send('hello');
    expect(await chatty.closed).toEqual({ code: 1008, reason: 'inbound messages are not accepted' });
    await setTotals('s_bad', 2);
    await waitFor(async () => good.frames.at(-1)?.seq === 2, 'update after the bad clients');
    good.ws.close();
  });

  it('when one address opens 200 connections, then 100 are served and the rest refused with 429; closing some makes room again', async () => {
    await setTotals('s_many', 1);
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => connect('/ws/streams/s_many')));
    const open = results.filter((r): r is PromiseFulfilledResult<Client> => r.status === 'fulfilled').map((r) => r.value);
    const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.status);
    expect(open).toHaveLength(100);
    expect(refused).toEqual(Array(100).fill(429));
    await Promise.all(open.slice(0, 10).map((c) => { c.ws.close(); return c.closed; }));
    await waitFor(async () => gateway.clientCount() === 90, 'closed sockets to be released');
    const again = await connect('/ws/streams/s_many');
    await waitFor(async () => again.frames.length === 1, 'snapshot on the freed slot');
    for (const c of [...open.slice(10), again]) c.ws.terminate();
    await waitFor(async () => gateway.clientCount() === 0, 'all closed');
  });

  it('when a peer stops answering pings, then it is terminated and a live one is kept', async () => {
    const hbServer = http.createServer();
    const hb = await attachFeedGateway(hbServer, deps, { channel: channel(), reader: async (id) => totals(id, 1), heartbeatMs: 200 });
    await new Promise<void>((r) => hbServer.listen(0, '127.0.0.1', r));
    const url = `ws://127.0.0.1:${(hbServer.address() as { port: number }).port}`;
    const saved = base;
    base = url;
    try {
      const quiet = await connect('/ws/streams/s_hb');
      await waitFor(async () => quiet.frames.length === 1, 'snapshot');
      quiet.ws.pause(); // reads nothing, so it never sees a ping or answers a pong
      const healthy = await connect('/ws/streams/s_hb');
      await waitFor(async () => hb.clientCount() === 1, 'the silent peer to be dropped', 5000, 50);
      await new Promise((r) => setTimeout(r, 500));
      expect(healthy.ws.readyState).toBe(WebSocket.OPEN);
      quiet.ws.terminate();
      healthy.ws.close();
    } finally {
      base = saved;
      await hb.stop();
      hbServer.close();
    }
  });

  it('when a client stops reading while 5,000 updates are published, then a normal client is not delayed over 100 ms, memory stays bounded and the stalled one is dropped', async () => {
    // ~200 KB frames, so a stalled socket fills the kernel's buffers (a loopback TCP socket takes a few MB
    // before it pushes back: tcp_wmem's 4 MB maximum plus the receiver's window) and then the gateway's
    const RECENT = 500;
    await setTotals('s_slow', 0, RECENT);
    const normal = await connect('/ws/streams/s_slow');
    await waitFor(async () => normal.frames.length === 1, 'snapshot');
    let seq = 0;
    let maxBuffered = 0;
    const publishedAt = new Map<number, number>();
    /** Publishes n updates as fast as Redis takes them; answers the normal client's delay per frame. */
    const publish = async (n: number) => {
      const from = normal.frames.length;
      for (const end = seq + n; seq < end;) {
        seq++;
        // the stored totals and the notification move together, as the allocator's Lua script does
        await pub.multi().set(deps.key('feedtest', 's_slow'), JSON.stringify({ seq, recentCount: RECENT })).publish(channel(), JSON.stringify({ streamId: 's_slow', seq })).exec();
        publishedAt.set(seq, Date.now());
        if (seq % 50 === 0) {
          maxBuffered = Math.max(maxBuffered, gateway.bufferedBytes());
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      const last = seq;
      await waitFor(async () => normal.frames.at(-1)?.seq === last, 'the last update at the normal client');
      return normal.frames.slice(from).map((f) => f.at - publishedAt.get(f.seq)!).sort((x, y) => x - y);
    };
    const p99 = (xs: number[]) => xs[Math.floor(xs.length * 0.99)];

    // control: the same load with no stalled peer, so machine noise is not blamed on the stalled one
    const control = await publish(1000);
    const slow = await connect('/ws/streams/s_slow');
    await waitFor(async () => slow.frames.length === 1, 'snapshot');
    slow.ws.pause();
    const dropped0 = (await deps.metrics.wsFramesDropped.get()).values[0]?.value ?? 0;
    gc();
    // frames are Buffers: queued ones count as external memory, not heap
    const memory = () => { const m = process.memoryUsage(); return m.heapUsed + m.external; };
    const mem0 = memory();
    const lags = await publish(5000);
    gc();
    const grown = memory() - mem0;
    console.log(`slow consumer: normal client delay p50 ${lags[lags.length >> 1]} ms, p99 ${p99(lags)} ms over ${lags.length} frames (control p99 ${p99(control)} ms); max buffered ${maxBuffered} B; heap+external +${Math.round(grown / 1024)} KiB`);
    expect(lags.length).toBeGreaterThan(20);
    expect(p99(lags)).toBeLessThanOrEqual(p99(control) + 100);
    expect(((await deps.metrics.wsFramesDropped.get()).values[0]?.value ?? 0) - dropped0).toBeGreaterThan(0);
    // the stalled socket holds at most the soft limit plus one frame, not the ~16 MB published
    expect(maxBuffered).toBeLessThan(256 * 1024 + 2 * JSON.stringify(totals('s_slow', 0, RECENT)).length);
    expect(grown).toBeLessThan(16 * 1024 * 1024);
    await waitFor(async () => gateway.clientCount() === 1, 'the stalled client to be dropped', 10000, 100);
    expect(normal.ws.readyState).toBe(WebSocket.OPEN);
    slow.ws.terminate();
    normal.ws.close();
  }, 60000);
});
