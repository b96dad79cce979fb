import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { Deps } from '../deps';
import type { Stoppable } from '../app';
import { errorStatus, type ErrorCode } from '../infra/errors';
import { addressGroup } from '../infra/address-group';
import { FeedHub, defaultHubOptions, type HubOptions, type TotalsReader } from './feed.hub';
import { subscribeTotals } from './totals.subscriber';

export interface GatewayOptions extends Partial<HubOptions> {
  reader: TotalsReader;
  /** Redis pub/sub channel carrying {streamId, seq} after every totals change */
  channel: string;
  heartbeatMs?: number;
  maxPayload?: number;
}

export interface FeedGateway extends Stoppable {
  hub: FeedHub;
  clientCount(): number;
  /** bytes queued in this process for all feed sockets: bounded by the slow-consumer limits */
  bufferedBytes(): number;
}

const PATH = /^\/ws\/streams\/([^/]*)$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const SEQ = /^\d{1,15}$/;

/** Close codes a client can act on: policy (1008), too big (1009, from ws), unknown stream, going away. */
export const closeCodes = { inbound: 1008, unknownStream: 4404, unavailable: 1011, goingAway: 1001 } as const;

/**
 * Serves /ws/streams/:id on the HTTP server: validates the upgrade, limits connections per address,
 * then hands sockets to the hub, which sends a snapshot and coalesced totals from Redis pub/sub.
 */
export async function attachFeedGateway(server: Server, deps: Deps, opts: GatewayOptions): Promise<FeedGateway> {
  const { config, logger, metrics } = deps;
  const heartbeatMs = opts.heartbeatMs ?? 30_000;
  let lastReadWarn = 0;
  const hub = new FeedHub(opts.reader, { ...defaultHubOptions, intervalMs: config.feed.intervalMs, ...pick(opts) }, {
    sent: (n) => metrics.wsFramesSent.inc(n),
    flushed: (ms) => metrics.feedNotifyToSendSeconds.observe(ms / 1000),
    dropped: (n) => metrics.wsFramesDropped.inc(n),
    slowClosed: (streamId) => logger.info({ streamId }, 'feed: closed a client that stopped reading'),
    // retried every interval while Redis is away: log the first failure of every 5 s, not each retry
    readFailed: (streamId, err) => { if (Date.now() - lastReadWarn > 5000) { lastReadWarn = Date.now(); logger.warn({ streamId, err }, 'feed: could not read totals'); } },
  });
  // small frames only: viewers have nothing to say, and a large inbound frame is refused with 1009
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload ?? 1024, perMessageDeflate: false, clientTracking: false });
  const perIp = new Map<string, number>();
  const alive = new Map<WebSocket, boolean>();
  let closing = false;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined); // a peer resetting mid-handshake is not our error
    const url = new URL(req.url ?? '/', 'http://feed.invalid');
    const m = PATH.exec(url.pathname);
    if (!m) return refuse(socket, 'NOT_FOUND', `no WebSocket endpoint at ${url.pathname}`);
    const streamId = m[1];
    const since = url.searchParams.get('since');
    if (!ID.test(streamId)) return refuse(socket, 'VALIDATION_FAILED', 'invalid stream id', [{ field: 'params.id', message: 'must be an id (letters, digits, _ or -)' }]);
    if (since !== null && !SEQ.test(since)) return refuse(socket, 'VALIDATION_FAILED', 'invalid since', [{ field: 'query.since', message: 'must be a non-negative integer' }]);
    if (closing) return refuse(socket, 'UNAVAILABLE', 'server is shutting down');
    const ip = addressGroup(clientIp(req, config.http.trustProxy, config.http.trustProxyHops));
    const open = perIp.get(ip) ?? 0;
    if (open >= config.feed.maxPerIp) return refuse(socket, 'RATE_LIMITED', `at most ${config.feed.maxPerIp} feed connections per address`, undefined, 10);
    perIp.set(ip, open + 1);
    // the raw socket closes exactly once, whether the upgrade succeeds or not
    socket.once('close', () => {
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n <= 0) perIp.delete(ip); else perIp.set(ip, n);
    });
    wss.handleUpgrade(req, socket, head, (ws) => { void onConnection(ws, socket, streamId, since === null ? -1 : Number(since)); });
  };

  const onConnection = async (ws: WebSocket, raw: Duplex, streamId: string, since: number) => {
    metrics.wsClients.inc();
    alive.set(ws, true);
    let client: ReturnType<FeedHub['add']> | null = null;
    ws.on('pong', () => alive.set(ws, true));
    ws.on('message', () => ws.close(closeCodes.inbound, 'inbound messages are not accepted'));
    ws.on('error', (err) => logger.debug({ err: err.message, streamId }, 'feed: socket error'));
    ws.once('close', () => {
      metrics.wsClients.dec();
      alive.delete(ws);
      if (client) hub.remove(client); else hub.release(streamId);
    });
    let exists: boolean;
    try {
      exists = await hub.prepare(streamId);
    } catch {
      ws.close(closeCodes.unavailable, 'totals unavailable, retry later');
      return;
    }
    if (ws.readyState !== WebSocket.OPEN) return;
    if (!exists) {
      ws.close(closeCodes.unknownStream, 'unknown stream');
      return;
    }
    client = hub.add(streamId, {
      get bufferedAmount() { return ws.bufferedAmount; },
      // the same framed bytes for every viewer: ws would build a header and issue a two-part write per socket
      send: (data) => { if (ws.readyState === WebSocket.OPEN) raw.write(framedText(data)); },
      terminate: () => ws.terminate(),
    }, since);
  };

  server.on('upgrade', onUpgrade);
  const sub = subscribeTotals(deps, opts.channel, (streamId, seq) => hub.notify(streamId, seq), () => hub.refreshAll());
  // start listening without Redis if need be, but normally only once changes can be heard
  await Promise.race([sub.subscribed, new Promise((r) => setTimeout(r, 2000).unref())]);
  // a peer that missed the previous ping's pong is gone (cable pulled, laptop asleep)
  const heartbeat = setInterval(() => {
    for (const [ws, ok] of alive) {
      if (!ok) { ws.terminate(); continue; }
      alive.set(ws, false);
      ws.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();

  return {
    hub,
    clientCount: () => alive.size,
    bufferedBytes: () => { let n = 0; for (const ws of alive.keys()) n += ws.bufferedAmount; return n; },
    async stop() {
      closing = true;
      server.off('upgrade', onUpgrade);
      clearInterval(heartbeat);
      for (const ws of alive.keys()) ws.close(closeCodes.goingAway, 'server restarting');
      await sub.stop();
      hub.stop();
      // give close frames a moment, then drop whoever did not answer
      await new Promise((r) => setTimeout(r, alive.size ? 200 : 0));
      for (const ws of alive.keys()) ws.terminate();
    },
  };
}

// ws marks Sender.frame @public; @types/ws does not declare it
const { Sender } = WebSocket as unknown as { Sender: { frame(data: Buffer, o: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean }): Buffer[] } };
// payload → the whole unmasked text frame (header + payload) in one buffer, built once per frame
const framed = new WeakMap<Buffer, Buffer>();
function framedText(payload: Buffer): Buffer {
  let f = framed.get(payload);
  if (!f) {
    f = Buffer.concat(Sender.frame(payload, { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: true }));
    framed.set(payload, f);
  }
  return f;
}

function pick(o: GatewayOptions): Partial<HubOptions> {
  const out: Partial<HubOptions> = {};
  for (const k of ['intervalMs', 'softLimitBytes', 'hardLimitBytes', 'stallMs'] as const) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** As express's req.ip: behind n trusted hops, the n-th X-Forwarded-For entry from the right (0: the left-most). */
function clientIp(req: IncomingMessage, trustProxy: boolean, hops: number): string {
  const fwd = req.headers['x-forwarded-for'];
  if (trustProxy && typeof fwd === 'string' && fwd) {
    const entries = fwd.split(',');
    return entries[hops ? Math.max(0, entries.length - hops) : 0].trim();
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/** Answers a refused upgrade with a plain HTTP error in the API's error shape, then closes. */
function refuse(socket: Duplex, code: ErrorCode, message: string, details?: unknown, retryAfter?: number): void {
  const status = errorStatus[code];
  const body = JSON.stringify({ error: { code, message, ...(details !== undefined ? { details } : {}) } });
  socket.end([
    `HTTP/1.1 ${status} ${statusText[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(retryAfter ? [`Retry-After: ${retryAfter}`] : []),
    'Connection: close',
    '',
    body,
  ].join('\r\n'));
}

const statusText: Record<number, string> = { 404: 'Not Found', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 503: 'Service Unavailable' };
