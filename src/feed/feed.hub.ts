import type { StreamTotals } from '../events';

/**
 * The pure core of the feed: per stream, coalesces totals notifications into at most one read and one
 * serialised frame per interval, and hands the same bytes to every socket of the stream. It does no I/O
 * of its own: totals come through a TotalsReader and bytes leave through FeedSocket, so the coalescing
 * and slow-consumer rules are unit-tested with plain fakes.
 */

/** Reads the current totals of a stream; null when the stream does not exist. */
export type TotalsReader = (streamId: string) => Promise<StreamTotals | null>;

/** What the hub needs from a WebSocket. */
export interface FeedSocket {
  /** bytes queued for this peer and not yet written to the network */
  readonly bufferedAmount: number;
  send(data: Buffer): void;
  /** drops the peer without a closing handshake (its buffer is full, a handshake would never arrive) */
  terminate(reason: string): void;
}

export interface HubOptions {
  /** at most one frame per stream per interval, on average (bursts of two) */
  intervalMs: number;
  /** above this many buffered bytes a client is skipped and later gets only the latest frame */
  softLimitBytes: number;
  /** above this a client is dropped at once */
  hardLimitBytes: number;
  /** a client over the soft limit for this long is dropped */
  stallMs: number;
}

export interface HubEvents {
  sent(n: number): void;
  dropped(n: number): void;
  slowClosed(streamId: string): void;
  readFailed(streamId: string, err: unknown): void;
  /** a frame went out to every local socket of a stream, ms after the first notification it answers */
  flushed?(ms: number): void;
}

interface Frame { seq: number; totals: StreamTotals; update: Buffer; snapshot?: Buffer }

export interface Client { socket: FeedSocket; streamId: string; lastSeq: number; overSince: number | null }

interface Channel {
  clients: Set<Client>;
  latest: Frame | null;
  /** bumped by every notification; a read started at generation g covers notifications up to g */
  gen: number;
  /** the highest generation a finished read has covered */
  covered: number;
  reading: { gen: number; done: Promise<void> } | null;
  /** the seq last broadcast to the stream's clients (a read for a new viewer may already hold a newer one) */
  sentSeq: number;
  flushing: boolean;
  timer: NodeJS.Timeout | null;
  /** frames the stream may send now (a bucket of FRAME_BURST, refilled by one per interval), as of tokensAt (performance.now(): a wall-clock step never holds frames back) */
  tokens: number;
  tokensAt: number;
  /** when a read last failed (Redis away): the next waits an interval from it, whatever the bucket holds */
  failedAt: number;
  /** when the first notification not yet answered by a flush arrived */
  notifiedAt: number | null;
  /** when the stream's totals were last read (performance.now()) */
  readAt: number;
}

/** a broadcast yields to other work after this much time writing (checked every BROADCAST_CHECK clients) */
const BROADCAST_SLICE_MS = 5;
const BROADCAST_CHECK = 64;
/**
 * Frames a stream may send back to back: one per interval on average, in bursts of two. With exactly one per interval
 * counted from the last frame, one stray notification (a charity's batch a few ms after the others') sent a frame
 * that moved every later one: measured, the frames then came 100 ms after the one before and each allocator batch
 * (every ~110 ms) waited 70–90 ms for its slot, for as long as the load lasted.
 */
const FRAME_BURST = 2;
/**
 * A stream with viewers is read again when nothing asked for a read for this long. Notifications are fire-and-forget:
 * the allocator publishes once per batch after its scripts, so a crash between the two, or a message lost while a
 * cluster node fails over, would otherwise leave a screen behind until the stream's next sale. A read that finds
 * nothing newer sends nothing.
 */
export const REREAD_MS = 5_000;

export const defaultHubOptions: HubOptions = { intervalMs: 100, softLimitBytes: 64 * 1024, hardLimitBytes: 4 * 1024 * 1024, stallMs: 15_000 };

export class FeedHub {
  private readonly channels = new Map<string, Channel>();
  /** clients that skipped a frame and still owe the latest one */
  private readonly behind = new Set<Client>();
  private readonly sweeper: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly read: TotalsReader, private readonly opts: HubOptions, private readonly events: HubEvents) {
    this.sweeper = setInterval(() => this.catchUp(), opts.intervalMs);
    this.sweeper.unref();
  }

  /** Reads the stream's totals (joining a read already in flight); false when the stream does not exist. */
  async prepare(streamId: string): Promise<boolean> {
    const ch = this.channel(streamId);
    try {
      await this.refresh(streamId, ch);
    } finally {
      if (!ch.latest) this.dropIfIdle(streamId, ch);
    }
    return ch.latest !== null;
  }

  /**
   * Adds a socket after prepare(): it gets a snapshot unless it already holds the latest seq (since),
   * then every later frame. Returns a handle for remove().
   */
  add(streamId: string, socket: FeedSocket, since = -1): Client {
    const ch = this.channel(streamId);
    const client: Client = { socket, streamId, lastSeq: since, overSince: null };
    ch.clients.add(client);
    const f = ch.latest;
    if (f && f.seq > client.lastSeq) {
      f.snapshot ??= Buffer.from(JSON.stringify({ type: 'snapshot', seq: f.seq, totals: f.totals }));
      if (this.deliver(client, f.seq, f.snapshot)) this.events.sent(1);
    }
    return client;
  }

  remove(client: Client): void {
    this.behind.delete(client);
    const ch = this.channels.get(client.streamId);
    if (!ch) return;
    ch.clients.delete(client);
    this.dropIfIdle(client.streamId, ch);
  }

  /** Forgets a stream prepared for a socket that went away before add(). */
  release(streamId: string): void {
    const ch = this.channels.get(streamId);
    if (ch) this.dropIfIdle(streamId, ch);
  }

  /**
   * A totals change was published; streams with no local subscribers cost nothing. The message's seq is that of a
   * charity's partial that moved (the highest of a batch's; a stream's seq is the sum of its charities' partials), so it
   * cannot say whether a frame already covers it: every notification asks for a read, still coalesced to one per interval, and a read that
   * finds no newer seq sends nothing.
   */
  notify(streamId: string, _seq: number): void {
    const ch = this.channels.get(streamId);
    if (!ch || ch.clients.size === 0) return;
    ch.notifiedAt ??= Date.now();
    ch.gen++;
    this.schedule(streamId, ch);
  }

  /** After the pub/sub connection comes back, messages may have been lost: re-read every stream. */
  refreshAll(): void {
    for (const [id, ch] of this.channels) {
      ch.gen++;
      this.schedule(id, ch);
    }
  }

  get streamCount(): number { return this.channels.size; }

  stop(): void {
    this.stopped = true;
    clearInterval(this.sweeper);
    for (const ch of this.channels.values()) if (ch.timer) clearTimeout(ch.timer);
    this.channels.clear();
    this.behind.clear();
  }

  private channel(streamId: string): Channel {
    let ch = this.channels.get(streamId);
    if (!ch) {
      ch = { clients: new Set(), latest: null, gen: 0, covered: 0, reading: null, sentSeq: -1, flushing: false, timer: null, tokens: FRAME_BURST, tokensAt: -Infinity, failedAt: -Infinity, notifiedAt: null, readAt: performance.now() };
      this.channels.set(streamId, ch);
    }
    return ch;
  }

  private dropIfIdle(streamId: string, ch: Channel): void {
    if (ch.clients.size > 0 || ch.reading) return;
    if (ch.timer) clearTimeout(ch.timer);
    this.channels.delete(streamId);
  }

  /**
   * Leading edge when the stream was quiet (low latency); under load a token bucket holds a stream to one frame per
   * interval on average (FRAME_BURST). A flush whose read finds nothing newer (the rest of a burst the previous read
   * already covered: several allocator processes, or a rebuild, notify a stream a few ms apart) sends nothing and spends
   * nothing. Reads stay one at a time per stream, and at most one per notification.
   */
  private schedule(streamId: string, ch: Channel): void {
    if (ch.timer || ch.flushing || this.stopped) return;
    const now = performance.now();
    const tokens = this.refill(ch, now);
    // a failed read sends nothing and spends no token: without its own pause the retry would follow at once, for ever
    const wait = Math.max(tokens >= 1 ? 0 : Math.ceil((1 - tokens) * this.opts.intervalMs), ch.failedAt + this.opts.intervalMs - now);
    const run = () => { this.flush(streamId, ch).catch((err) => this.events.readFailed(streamId, err)); };
    // at once, not through a timer: under load the timers phase comes only after every request queued meanwhile
    if (wait === 0) { run(); return; }
    ch.timer = setTimeout(() => { ch.timer = null; run(); }, wait);
  }

  private refill(ch: Channel, now: number): number {
    ch.tokens = Math.min(FRAME_BURST, ch.tokens + (now - ch.tokensAt) / this.opts.intervalMs);
    ch.tokensAt = now;
    return ch.tokens;
  }

  private async flush(streamId: string, ch: Channel): Promise<void> {
    const notifiedAt = ch.notifiedAt;
    ch.notifiedAt = null;
    ch.flushing = true;
    try {
      await this.refresh(streamId, ch);
      const f = ch.latest;
      if (f && f.seq > ch.sentSeq) {
        ch.sentSeq = f.seq;
        ch.tokens = this.refill(ch, performance.now()) - 1;
        await this.broadcast(ch, f);
        if (notifiedAt !== null) this.events.flushed?.(Date.now() - notifiedAt);
      }
    } finally {
      ch.flushing = false;
    }
    if (this.channels.get(streamId) !== ch) return;
    if (ch.covered < ch.gen) this.schedule(streamId, ch);
    else this.dropIfIdle(streamId, ch);
  }

  // in slices of a few ms, yielding between them, so thousands of viewers never hold up HTTP requests for long;
  // by time, not by count: under load each yield waits behind every request queued meanwhile, and a thousand
  // writes (~6 ms) in four slices put three such waits before the last viewer's frame
  private async broadcast(ch: Channel, f: Frame): Promise<void> {
    const targets = [...ch.clients];
    let sliceStart = performance.now();
    let sent = 0;
    for (let i = 0; i < targets.length; i++) {
      if (i > 0 && i % BROADCAST_CHECK === 0 && performance.now() - sliceStart >= BROADCAST_SLICE_MS) {
        this.events.sent(sent);
        sent = 0;
        await new Promise((r) => setImmediate(r));
        if (this.stopped) return;
        sliceStart = performance.now();
      }
      const c = targets[i];
      if (ch.clients.has(c) && this.deliver(c, f.seq, f.update)) sent++;
    }
    // counted once per slice, not per viewer: a counter update per write was 1,000 per frame
    this.events.sent(sent);
  }

  // one read per stream at a time; whoever asks meanwhile shares it, unless it started before the latest notification
  private async refresh(streamId: string, ch: Channel): Promise<void> {
    while (ch.reading && ch.reading.gen < ch.gen) await ch.reading.done.catch(() => undefined);
    if (!ch.reading) {
      const gen = ch.gen;
      const done = (async () => {
        try {
          ch.readAt = performance.now();
          const totals = await this.read(streamId);
          // seq only grows: a stale read (another instance answered first) never replaces a newer frame
          if (totals && (!ch.latest || totals.seq > ch.latest.seq)) {
            ch.latest = { seq: totals.seq, totals, update: Buffer.from(JSON.stringify({ type: 'totals', seq: totals.seq, totals })) };
          }
          ch.covered = Math.max(ch.covered, gen);
        } catch (err) {
          ch.failedAt = performance.now();
          this.events.readFailed(streamId, err);
          if (!ch.latest) throw err;
        } finally {
          ch.reading = null;
        }
      })();
      ch.reading = { gen, done };
    }
    return ch.reading.done;
  }

  /** Writes a frame to one client unless it already has it or is too slow; true when written. */
  private deliver(c: Client, seq: number, data: Buffer, fresh = true): boolean {
    if (seq <= c.lastSeq) return false;
    const buffered = c.socket.bufferedAmount;
    const now = Date.now();
    if (buffered > this.opts.softLimitBytes) {
      c.overSince ??= now;
      if (buffered > this.opts.hardLimitBytes || now - c.overSince >= this.opts.stallMs) {
        this.remove(c);
        c.socket.terminate('too slow');
        this.events.slowClosed(c.streamId);
        return false;
      }
      // skip it: the sweeper sends whatever is latest once the buffer drains
      if (fresh) {
        this.behind.add(c);
        this.events.dropped(1);
      }
      return false;
    }
    c.overSince = null;
    this.behind.delete(c);
    c.socket.send(data);
    c.lastSeq = seq;
    return true;
  }

  private catchUp(): void {
    const now = performance.now();
    for (const [id, ch] of this.channels) {
      if (ch.clients.size > 0 && !ch.reading && !ch.flushing && !ch.timer && now - ch.readAt >= REREAD_MS) {
        ch.gen++;
        this.schedule(id, ch);
      }
    }
    for (const c of this.behind) {
      const f = this.channels.get(c.streamId)?.latest;
      if (!f || f.seq <= c.lastSeq) { this.behind.delete(c); continue; }
      if (this.deliver(c, f.seq, f.update, false)) this.events.sent(1);
    }
  }
}
