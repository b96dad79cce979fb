import WebSocket from 'ws';
import { now } from './http';

/**
 * Latency probes: a dedicated product only probes buy, one unit each, paid strictly one after the
 * other, so "the probe product's units on screen ≥ k" means probe k's payment is on screen.
 */
export class ProbeBook {
  /** sentAt[k-1]: when probe k's payment notification was sent; step[k-1]: the step it belongs to */
  readonly sentAt: number[] = [];
  readonly step: number[] = [];
  /** per step: every (viewer, probe) delay from payment notification to the first frame showing it */
  readonly delays = new Map<number, number[]>();
  /** per probe (k-1): the first and the last viewer's delay, which tell the pipeline's wait from the fan-out's */
  readonly firstLast: [number, number][] = [];

  sent(stepIdx: number, t: number): number {
    this.sentAt.push(t);
    this.step.push(stepIdx);
    return this.sentAt.length;
  }

  /** A probe whose payment failed would shift every later threshold: drop it so numbering stays exact. */
  unsend(): void {
    this.sentAt.pop();
    this.step.pop();
  }

  seen(fromUnits: number, toUnits: number, at: number): void {
    for (let k = fromUnits + 1; k <= toUnits && k <= this.sentAt.length; k++) {
      const list = this.delays.get(this.step[k - 1]) ?? [];
      const d = at - this.sentAt[k - 1];
      list.push(d);
      this.delays.set(this.step[k - 1], list);
      const fl = this.firstLast[k - 1];
      if (!fl) this.firstLast[k - 1] = [d, d];
      else { fl[0] = Math.min(fl[0], d); fl[1] = Math.max(fl[1], d); }
    }
  }
}

/**
 * Units of one product in a raw totals frame, found without parsing the whole frame (1,000 viewers × 10 frames/s).
 * On the bytes as received: decoding every ~5 KB frame to a string cost the load generator more CPU than the api
 * spends writing it, on the same two cores as the service it measures.
 */
export function unitsInFrame(raw: Buffer | string, productId: string): number | null {
  const buf = typeof raw === 'string' ? Buffer.from(raw) : raw;
  const at = buf.indexOf(needle(productId));
  if (at < 0) return null;
  const start = buf.lastIndexOf(0x7b /* { */, at);
  const end = buf.indexOf(0x7d /* } */, at);
  const u = buf.indexOf(UNITS, start);
  if (u < 0 || (end >= 0 && u > end)) return null;
  let n = 0;
  let i = u + UNITS.length;
  for (; i < buf.length && buf[i] >= 0x30 && buf[i] <= 0x39; i++) n = n * 10 + (buf[i] - 0x30);
  return i > u + UNITS.length ? n : null;
}
const UNITS = Buffer.from('"units":');
const needles = new Map<string, Buffer>();
const needle = (productId: string) => {
  let b = needles.get(productId);
  if (!b) { b = Buffer.from(`"productId":"${productId}"`); needles.set(productId, b); }
  return b;
};
const SNAPSHOT = Buffer.from('{"type":"snapshot"');

export interface ViewerStats { connected: number; failed: number; closedEarly: number; frames: number; snapshots: number }

/** Holds n WebSocket viewers of one stream, each measuring when probe payments reach its screen. */
export class Viewers {
  private sockets: WebSocket[] = [];
  readonly stats: ViewerStats = { connected: 0, failed: 0, closedEarly: 0, frames: 0, snapshots: 0 };
  private closing = false;

  constructor(private readonly port: number, private readonly streamId: string, private readonly probeProductId: string, private readonly probes: ProbeBook) {}

  /** Opens the connections a few at a time; answers when all are open or failed (bounded by timeoutMs). */
  async connect(n: number, concurrency = 50, timeoutMs = 10_000): Promise<void> {
    let next = 0;
    const one = () => new Promise<void>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${this.port}/ws/streams/${this.streamId}`, { perMessageDeflate: false, handshakeTimeout: timeoutMs, skipUTF8Validation: true });
      let units = 0;
      let opened = false;
      ws.on('open', () => { opened = true; this.stats.connected++; resolve(); });
      ws.on('message', (data: Buffer) => {
        const t = now();
        this.stats.frames++;
        if (data.subarray(0, SNAPSHOT.length).equals(SNAPSHOT)) this.stats.snapshots++;
        const u = unitsInFrame(data, this.probeProductId);
        if (u !== null && u > units) {
          this.probes.seen(units, u, t);
          units = u;
        }
      });
      ws.on('error', () => { if (!opened) { this.stats.failed++; resolve(); } });
      ws.on('close', () => { if (opened && !this.closing) this.stats.closedEarly++; });
      this.sockets.push(ws);
    });
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < n) { next++; await one(); }
    }));
  }

  close(): void {
    this.closing = true;
    for (const ws of this.sockets) ws.terminate();
  }
}
