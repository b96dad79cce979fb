import { FeedHub, REREAD_MS, type FeedSocket, type HubOptions } from '../../src/feed/feed.hub';
import { parseTotalsMessage } from '../../src/feed/totals.subscriber';
import type { StreamTotals } from '../../src/events';

function totals(streamId: string, seq: number): StreamTotals {
  return {
    streamId, seq, status: 'live', goalFen: 100_000, salesFen: seq * 1000, units: seq, orders: seq, donationFen: seq * 100, matchedFen: 0,
    confirmedDonationFen: 0, byCharity: [], byProduct: [], matches: [], recent: [],
  };
}

class FakeSocket implements FeedSocket {
  bufferedAmount = 0;
  frames: { type: string; seq: number }[] = [];
  terminated = false;
  send(data: Buffer) { this.frames.push(JSON.parse(data.toString())); }
  terminate() { this.terminated = true; }
  get seqs() { return this.frames.map((f) => f.seq); }
}

/** A totals store the test moves forward; reads counts how often the hub asked; failing makes every read throw (Redis away). */
function store() {
  const s = { seq: new Map<string, number>(), reads: 0, failing: false, read: async (id: string) => {
    s.reads++;
    if (s.failing) throw new Error('redis away');
    const q = s.seq.get(id);
    return q === undefined ? null : totals(id, q);
  } };
  return s;
}

const opts: HubOptions = { intervalMs: 100, softLimitBytes: 1000, hardLimitBytes: 100_000, stallMs: 5000 };
const counters = () => ({ sent: 0, dropped: 0, slow: 0, sentFn(n: number) { this.sent += n; } });

describe('feed hub', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function hub(s = store(), o: Partial<HubOptions> = {}) {
    const c = counters();
    const h = new FeedHub(s.read, { ...opts, ...o }, { sent: (n) => { c.sent += n; }, dropped: (n) => { c.dropped += n; }, slowClosed: () => { c.slow++; }, readFailed: () => undefined });
    return { h, c, s };
  }

  async function join(h: FeedHub, id: string, since?: number) {
    const sock = new FakeSocket();
    expect(await h.prepare(id)).toBe(true);
    const client = h.add(id, sock, since);
    return { sock, client };
  }

  it('when a client joins, then it gets a snapshot of the current totals first', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 7);
    const { sock } = await join(h, 'st1');
    expect(sock.frames).toEqual([expect.objectContaining({ type: 'snapshot', seq: 7 })]);
    h.stop();
  });

  it('when the stream does not exist, then prepare answers false and nothing is kept', async () => {
    const { h } = hub();
    expect(await h.prepare('nope')).toBe(false);
    expect(h.streamCount).toBe(0);
    h.stop();
  });

  it('when a client resumes with since equal to the current seq, then it gets no snapshot; with an older since it gets one', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 9);
    const upToDate = await join(h, 'st1', 9);
    const behind = await join(h, 'st1', 4);
    expect(upToDate.sock.frames).toEqual([]);
    expect(behind.sock.seqs).toEqual([9]);
    h.stop();
  });

  it('when 500 changes arrive within a second, then each client gets at most 10 frames a second (after a burst of two) plus the snapshot, ending at the last seq, read once per frame', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 0);
    const a = await join(h, 'st1');
    const b = await join(h, 'st1');
    const readsBefore = s.reads;
    for (let i = 1; i <= 500; i++) {
      s.seq.set('st1', i);
      h.notify('st1', i);
      await jest.advanceTimersByTimeAsync(2);
    }
    await jest.advanceTimersByTimeAsync(300);
    const updates = a.sock.frames.filter((f) => f.type === 'totals');
    // 1.3 s: the burst of two, then one per 100 ms while changes last, then the last one
    expect(updates.length).toBeLessThanOrEqual(12);
    expect(updates.length).toBeGreaterThanOrEqual(10);
    expect(a.sock.seqs.at(-1)).toBe(500);
    expect(b.sock.seqs).toEqual(a.sock.seqs);
    expect(s.reads - readsBefore).toBe(updates.length);
    h.stop();
  });

  it('when the stream was quiet, then a change goes out at once rather than after the interval', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 1);
    const a = await join(h, 'st1');
    await jest.advanceTimersByTimeAsync(1000);
    s.seq.set('st1', 2);
    h.notify('st1', 2);
    await jest.advanceTimersByTimeAsync(1);
    expect(a.sock.seqs).toEqual([1, 2]);
    h.stop();
  });

  it('when a read finds nothing newer (the rest of a burst the frame already carried), then it spends no frame, and a stray change after a frame goes out at once while the rate stays one a interval on average', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 1);
    const a = await join(h, 'st1');
    await jest.advanceTimersByTimeAsync(1000);
    // allocator batches every 110 ms, each notifying once per charity a moment apart, both in the first read
    const batch = async (seq: number) => { s.seq.set('st1', seq); h.notify('st1', seq); h.notify('st1', seq); await jest.advanceTimersByTimeAsync(1); };
    const reads = s.reads;
    await batch(3);
    expect(a.sock.seqs).toEqual([1, 3]);
    await jest.advanceTimersByTimeAsync(109);
    // the second notification's read found nothing newer: no frame, and never more reads than notifications
    expect(s.reads).toBe(reads + 2);
    expect(a.sock.seqs).toEqual([1, 3]);
    await batch(4); // 110 ms after the frame: at once
    expect(a.sock.seqs).toEqual([1, 3, 4]);
    await jest.advanceTimersByTimeAsync(14);
    await batch(5); // a stray charity's batch 15 ms later: at once too (the burst)
    expect(a.sock.seqs).toEqual([1, 3, 4, 5]);
    await jest.advanceTimersByTimeAsync(94);
    await batch(6); // and the next regular batch is not pushed out by the stray one's frame
    expect(a.sock.seqs).toEqual([1, 3, 4, 5, 6]);
    // back to back now: the bucket is empty, so the next waits for its share of the interval
    await jest.advanceTimersByTimeAsync(9);
    await batch(7);
    expect(a.sock.seqs).toEqual([1, 3, 4, 5, 6]);
    await jest.advanceTimersByTimeAsync(100);
    expect(a.sock.seqs).toEqual([1, 3, 4, 5, 6, 7]);
    h.stop();
  });

  it('when reads fail (Redis away), then the hub retries once an interval, not in a loop, and catches up once reads work again', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 1);
    const a = await join(h, 'st1');
    s.failing = true;
    const reads = s.reads;
    s.seq.set('st1', 2);
    h.notify('st1', 2);
    await jest.advanceTimersByTimeAsync(1000);
    expect(s.reads - reads).toBeGreaterThanOrEqual(9);
    expect(s.reads - reads).toBeLessThanOrEqual(11);
    s.failing = false;
    await jest.advanceTimersByTimeAsync(150);
    expect(a.sock.seqs).toEqual([1, 2]);
    h.stop();
  });

  it('when a notification is lost (a crash after the allocator\'s scripts, a failover), then the stream is read again within a few seconds and the change goes out', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 1);
    const a = await join(h, 'st1');
    s.seq.set('st1', 2); // and no notify
    await jest.advanceTimersByTimeAsync(REREAD_MS - 500);
    expect(a.sock.seqs).toEqual([1]);
    await jest.advanceTimersByTimeAsync(500 + opts.intervalMs);
    expect(a.sock.seqs).toEqual([1, 2]);
    // and while changes keep coming, the re-read adds no reads of its own: one per notification
    const reads = s.reads;
    for (let q = 3; q < 3 + 80; q++) {
      s.seq.set('st1', q);
      h.notify('st1', q);
      await jest.advanceTimersByTimeAsync(100);
    }
    expect(s.reads - reads).toBe(80);
    h.stop();
  });

  it('when the wall clock steps back (an NTP correction), then frames keep flowing at their pace', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 1);
    const a = await join(h, 'st1');
    s.seq.set('st1', 2);
    h.notify('st1', 2);
    await jest.advanceTimersByTimeAsync(150);
    jest.setSystemTime(Date.now() - 3_600_000);
    s.seq.set('st1', 3);
    h.notify('st1', 3);
    await jest.advanceTimersByTimeAsync(1);
    expect(a.sock.seqs).toEqual([1, 2, 3]);
    h.stop();
  });

  it('when the stream was quiet, then the totals read starts within the notification itself, not on a later timer', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 1);
    const a = await join(h, 'st1');
    await jest.advanceTimersByTimeAsync(1000);
    const reads = s.reads;
    s.seq.set('st1', 2);
    h.notify('st1', 2);
    expect(s.reads).toBe(reads + 1);
    await jest.advanceTimersByTimeAsync(0);
    expect(a.sock.seqs).toEqual([1, 2]);
    h.stop();
  });

  it('when a read returns an older seq than already sent (a lagging instance), then seq never goes backwards', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 5);
    const a = await join(h, 'st1');
    s.seq.set('st1', 3);
    h.notify('st1', 6);
    await jest.advanceTimersByTimeAsync(200);
    s.seq.set('st1', 6);
    h.notify('st1', 6);
    await jest.advanceTimersByTimeAsync(200);
    expect(a.sock.seqs).toEqual([5, 6]);
    h.stop();
  });

  it('when a client stops reading, then it is skipped, the others get every frame, and once it drains it gets only the latest', async () => {
    const { h, s, c } = hub();
    s.seq.set('st1', 0);
    const slow = await join(h, 'st1');
    const fast = await join(h, 'st1');
    slow.sock.bufferedAmount = 5000;
    for (let i = 1; i <= 5; i++) {
      s.seq.set('st1', i);
      h.notify('st1', i);
      await jest.advanceTimersByTimeAsync(150);
    }
    expect(fast.sock.seqs).toEqual([0, 1, 2, 3, 4, 5]);
    expect(slow.sock.seqs).toEqual([0]);
    expect(c.dropped).toBe(5);
    slow.sock.bufferedAmount = 0;
    await jest.advanceTimersByTimeAsync(150);
    expect(slow.sock.seqs).toEqual([0, 5]);
    expect(slow.sock.terminated).toBe(false);
    h.stop();
  });

  it('when a client stays over the soft limit past the stall time, or passes the hard limit, then it is dropped', async () => {
    const { h, s, c } = hub();
    s.seq.set('st1', 0);
    const stalled = await join(h, 'st1');
    const flooded = await join(h, 'st1');
    stalled.sock.bufferedAmount = 5000;
    s.seq.set('st1', 1);
    h.notify('st1', 1);
    await jest.advanceTimersByTimeAsync(150);
    expect(stalled.sock.terminated).toBe(false);
    await jest.advanceTimersByTimeAsync(opts.stallMs);
    expect(stalled.sock.terminated).toBe(true);
    flooded.sock.bufferedAmount = opts.hardLimitBytes + 1;
    s.seq.set('st1', 2);
    h.notify('st1', 2);
    await jest.advanceTimersByTimeAsync(150);
    expect(flooded.sock.terminated).toBe(true);
    expect(c.slow).toBe(2);
    h.stop();
  });

  it('when the last client leaves, then the stream is forgotten and later notifications cost no read', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 1);
    const a = await join(h, 'st1');
    h.remove(a.client);
    expect(h.streamCount).toBe(0);
    const reads = s.reads;
    h.notify('st1', 2);
    await jest.advanceTimersByTimeAsync(500);
    expect(s.reads).toBe(reads);
    h.stop();
  });

  it('when a change is notified while an older read is still in flight, then a fresh read follows and the client gets the change', async () => {
    let release: (() => void) | null = null;
    let seq = 4;
    const reads: number[] = [];
    const slowFirst = async (id: string) => {
      const at = seq;
      reads.push(at);
      if (reads.length === 2) await new Promise<void>((r) => { release = r; }); // the second read hangs, holding seq 4
      return totals(id, at);
    };
    const h = new FeedHub(slowFirst, opts, { sent: () => undefined, dropped: () => undefined, slowClosed: () => undefined, readFailed: () => undefined });
    const a = await join(h, 'st1');
    const pending = h.prepare('st1'); // a second viewer connecting: its read is in flight
    seq = 5;
    h.notify('st1', 5);
    await jest.advanceTimersByTimeAsync(150);
    release!();
    await pending;
    await jest.advanceTimersByTimeAsync(150);
    expect(a.sock.seqs).toEqual([4, 5]);
    h.stop();
  });

  it('when a new viewer\'s read sees a change before its notification arrives, then existing viewers still get that change', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 5);
    const a = await join(h, 'st1');
    s.seq.set('st1', 6);
    const b = await join(h, 'st1'); // its snapshot read already holds seq 6
    h.notify('st1', 6);
    await jest.advanceTimersByTimeAsync(150);
    expect(a.sock.seqs).toEqual([5, 6]);
    expect(b.sock.seqs).toEqual([6]);
    h.stop();
  });

  it('when a stream has more viewers than one broadcast slice, then every one gets the frame, in order', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 1);
    const many = [];
    for (let i = 0; i < 600; i++) many.push(await join(h, 'st1'));
    for (const seq of [2, 3]) {
      s.seq.set('st1', seq);
      h.notify('st1', seq);
      await jest.advanceTimersByTimeAsync(150);
    }
    for (const m of many) expect(m.sock.seqs).toEqual([1, 2, 3]);
    h.stop();
  });

  it('when writing to the viewers takes longer than a slice, then the broadcast yields to other work midway and every viewer still gets the frame', async () => {
    const { h, s, c } = hub();
    s.seq.set('st1', 1);
    const log: string[] = [];
    let clock = 0;
    const spy = jest.spyOn(performance, 'now').mockImplementation(() => clock);
    const socks = [];
    for (let i = 0; i < 300; i++) {
      const sock = new FakeSocket();
      const send = sock.send.bind(sock);
      // each write costs 1 ms; the first one queues other work (an HTTP request) behind it
      sock.send = (data: Buffer) => { clock += 1; send(data); if (sock.frames.length === 2) { log.push(`v${i}`); if (i === 0) setImmediate(() => log.push('other work')); } };
      expect(await h.prepare('st1')).toBe(true);
      h.add('st1', sock);
      socks.push(sock);
    }
    s.seq.set('st1', 2);
    h.notify('st1', 2);
    await jest.advanceTimersByTimeAsync(150);
    spy.mockRestore();
    for (const sock of socks) expect(sock.seqs).toEqual([1, 2]);
    expect(c.sent).toBe(600); // 300 snapshots and 300 frames, counted per slice
    const other = log.indexOf('other work');
    expect(other).toBeGreaterThan(0);
    expect(other).toBeLessThan(log.length - 1);
    h.stop();
  });

  it('when the pub/sub connection comes back, then every stream is re-read and clients catch up', async () => {
    const { h, s } = hub();
    s.seq.set('st1', 1);
    const a = await join(h, 'st1');
    s.seq.set('st1', 4); // published while the subscriber was away: no notify
    h.refreshAll();
    await jest.advanceTimersByTimeAsync(200);
    expect(a.sock.seqs).toEqual([1, 4]);
    h.stop();
  });
});

describe('totals message', () => {
  it('when the message is well formed, then it parses; otherwise it is refused', () => {
    expect(parseTotalsMessage('{"streamId":"s_1","seq":3}')).toEqual({ streamId: 's_1', seq: 3 });
    for (const bad of ['', 'x', '[]', '{"streamId":"a b","seq":1}', '{"streamId":"s","seq":-1}', '{"streamId":"s","seq":1.5}', '{"streamId":{"$gt":""},"seq":1}']) {
      expect(parseTotalsMessage(bad)).toBeNull();
    }
  });
});
