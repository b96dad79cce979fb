import http from 'node:http';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config';
import { createDeps, closeDeps, type Deps } from '../../src/deps';
import { attachFeedGateway, type FeedGateway } from '../../src/feed/feed.gateway';
import type { StreamTotals } from '../../src/events';
import { testEnv, waitFor } from '../helpers/env';
import { PrivateRedis } from '../helpers/redis-server';

/**
 * The feed when Redis misbehaves, on a private redis-server (killing subscribers or the server itself
 * on the shared one would disturb everyone else).
 */

let redis: PrivateRedis;
let deps: Deps;
let server: http.Server;
let gateway: FeedGateway;
let admin: Redis;
let base: string;
const channel = () => `${deps.config.redis.prefix}totals`;

const totals = (streamId: string, seq: number) => ({ streamId, seq, status: 'live', goalFen: 0, salesFen: 0, units: seq, orders: seq, donationFen: seq * 100, matchedFen: 0, confirmedDonationFen: 0, byCharity: [], byProduct: [], matches: [], recent: [] }) as StreamTotals;

function connect(streamId: string): Promise<{ ws: WebSocket; seqs: number[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base}/ws/streams/${streamId}`);
    const seqs: number[] = [];
    ws.on('message', (d) => seqs.push(JSON.parse(d.toString()).seq));
    ws.once('open', () => resolve({ ws, seqs }));
    ws.once('error', reject);
  });
}

beforeAll(async () => {
  redis = await PrivateRedis.start();
  deps = await createDeps(loadConfig(testEnv({ REDIS_URL: redis.url })));
  admin = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  admin.on('error', () => undefined);
  server = http.createServer();
  gateway = await attachFeedGateway(server, deps, {
    channel: channel(),
    reader: async (id) => { const s = await deps.redis.get(deps.key('feedtest', id)); return s ? JSON.parse(s) : null; },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
}, 30000);

afterAll(async () => {
  await gateway?.stop();
  server?.close();
  admin?.disconnect();
  if (deps) await closeDeps(deps);
  await redis?.down({ wipe: true });
});

describe('feed and Redis', () => {
  it('when the subscriber connection drops and a change is published meanwhile, then clients still get it once it reconnects', async () => {
    await admin.set(deps.key('feedtest', 's_r1'), JSON.stringify(totals('s_r1', 1)));
    const c = await connect('s_r1');
    await waitFor(async () => c.seqs.length === 1, 'snapshot');
    // drop every pub/sub connection, then publish at once: that message is lost to this process
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await admin.set(deps.key('feedtest', 's_r1'), JSON.stringify(totals('s_r1', 2)));
    expect(await admin.publish(channel(), JSON.stringify({ streamId: 's_r1', seq: 2 }))).toBe(0);
    await waitFor(async () => c.seqs.at(-1) === 2, 'the change after the subscriber reconnected', 10000, 50);
    c.ws.close();
  });

  it('when Redis restarts, then open sockets stay open and keep receiving afterwards', async () => {
    await admin.set(deps.key('feedtest', 's_r2'), JSON.stringify(totals('s_r2', 1)));
    const c = await connect('s_r2');
    await waitFor(async () => c.seqs.length === 1, 'snapshot');
    await redis.down();
    await new Promise((r) => setTimeout(r, 500));
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    await redis.up();
    await waitFor(async () => (await admin.ping().catch(() => '')) === 'PONG', 'redis back');
    await waitFor(async () => (await admin.pubsub('NUMSUB', channel()).catch(() => [channel(), 0]))[1] === 1, 'the subscriber back', 10000, 50);
    await admin.set(deps.key('feedtest', 's_r2'), JSON.stringify(totals('s_r2', 7)));
    await admin.publish(channel(), JSON.stringify({ streamId: 's_r2', seq: 7 }));
    await waitFor(async () => c.seqs.at(-1) === 7, 'a change after the restart', 10000, 50);
    expect(c.seqs).toEqual([...c.seqs].sort((x, y) => x - y));
    c.ws.close();
  }, 30000);
});
