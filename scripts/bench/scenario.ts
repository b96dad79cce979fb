import { signPayment } from '../../src/orders';
import { BenchClient, HttpResult, now } from './http';
import { runOpenLoop, scheduleFor } from './schedule';
import { ProbeBook } from './viewers';
import type { Seeded } from './seed';

export type OrderState = 'reserved' | 'paid' | 'refunded';
/** One accepted order as the client saw it; `unsure` when a payment or refund got no clear answer. */
export interface OrderRec { id: string; product: number; qty: number; totalFen: number; pledgeFen: number; step: number; state: OrderState; unsure: boolean }

export interface StepCounters {
  offered: number;
  startMs: number;
  durationS: number;
  sent: number;
  ok: number;
  soldOut: number;
  lastEndMs: number;
  errors: Record<string, number>;
  latencies: number[];
  payments: { sent: number; ok: number; errors: Record<string, number>; latencies: number[] };
  refunds: { sent: number; ok: number; errors: Record<string, number> };
}

export interface LoadOptions { payDelayMs: number; refundShare: number; refundDelayMs: number; probeEveryMs: number; maxInFlight: number }

const bump = (m: Record<string, number>, k: string) => { m[k] = (m[k] ?? 0) + 1; };

/**
 * The broadcast's traffic: orders at a constant arrival rate, each accepted order paid by a signed
 * notification payDelayMs later (also scheduled by the clock), a share of the paid ones refunded later,
 * and latency probes feeding the viewers' payment-to-screen measurement.
 */
export class Broadcast {
  readonly orders = new Map<string, OrderRec>();
  readonly steps: StepCounters[] = [];
  pending = 0;
  private seq = 0;
  private probing = false;
  probeFailures = 0;
  private readonly unknownPlacements: { token: string; key: string; body: unknown; product: number; qty: number; step: number }[] = [];

  constructor(
    private readonly seed: Seeded,
    private readonly clients: { orders: BenchClient; payments: BenchClient; probes: BenchClient },
    private readonly secrets: { payment: string; admin: string },
    readonly probes: ProbeBook,
    private readonly opts: LoadOptions,
    private readonly runId: string,
  ) {}

  /** Runs one step of the open-loop load; resolves when every order of it has been sent. */
  async runStep(offered: number, durationS: number): Promise<StepCounters> {
    const step: StepCounters = { offered, startMs: now(), durationS, sent: 0, ok: 0, soldOut: 0, lastEndMs: 0, errors: {}, latencies: [], payments: { sent: 0, ok: 0, errors: {}, latencies: [] }, refunds: { sent: 0, ok: 0, errors: {} } };
    const idx = this.steps.push(step) - 1;
    const regular = this.seed.products.map((p, i) => (p.role === 'regular' ? i : -1)).filter((i) => i >= 0);
    const sellout = this.seed.products.findIndex((p) => p.role === 'sellout');
    const probeLoop = this.probeLoop(idx, step.startMs + durationS * 1000);
    await runOpenLoop(scheduleFor(step.startMs, offered, durationS), (_i, at) => {
      // 1% of orders go to the limited product, which sells out on purpose
      const product = Math.random() < 0.01 ? sellout : regular[Math.floor(Math.random() * regular.length)];
      this.placeOrder(idx, product, 1 + Math.floor(Math.random() * 3), at);
    });
    await probeLoop;
    return step;
  }

  private placeOrder(stepIdx: number, product: number, qty: number, at: number): void {
    const step = this.steps[stepIdx];
    const buyer = this.seed.buyers[Math.floor(Math.random() * this.seed.buyers.length)];
    const p = this.seed.products[product];
    step.sent++;
    // bounded: past this many unanswered orders the client stops sending and counts the refusal as an error
    if (this.clients.orders.inFlight >= this.opts.maxInFlight) { bump(step.errors, 'CLIENT_BACKLOG'); return; }
    this.pending++;
    const key = `${this.runId}-${++this.seq}`;
    const body = { streamId: this.seed.streamId, productId: p.id, quantity: qty };
    void this.clients.orders.request('POST', '/api/v1/orders', { headers: { authorization: `Bearer ${buyer.token}`, 'idempotency-key': key }, body }).then((r) => {
      this.pending--;
      step.latencies.push(r.endMs - at);
      step.lastEndMs = Math.max(step.lastEndMs, r.endMs);
      if (r.status === 201) {
        step.ok++;
        const b = r.body as { id: string; totalFen: number; pledge: { totalFen: number } };
        const rec: OrderRec = { id: b.id, product, qty, totalFen: b.totalFen, pledgeFen: b.pledge.totalFen, step: stepIdx, state: 'reserved', unsure: false };
        this.orders.set(rec.id, rec);
        this.later(this.opts.payDelayMs, () => this.pay(rec, r.endMs + this.opts.payDelayMs));
      } else if (r.status === 409 && r.code === 'OUT_OF_STOCK' && p.role === 'sellout') {
        step.soldOut++;
      } else {
        bump(step.errors, r.code ?? `HTTP_${r.status}`);
        // no answer: the server may have reserved it; a real client retries with the same key, so does the bench after the load
        if (r.status === 0 || r.status >= 500) this.unknownPlacements.push({ token: buyer.token, key, body, product, qty, step: stepIdx });
      }
    });
  }

  private later(ms: number, fn: () => void): void {
    this.pending++;
    setTimeout(() => { this.pending--; fn(); }, ms);
  }

  private notify(client: BenchClient, rec: { id: string; totalFen: number }): Promise<HttpResult> {
    const raw = JSON.stringify({ orderId: rec.id, paymentId: `pay_${rec.id}`, amountFen: rec.totalFen, status: 'succeeded' });
    return client.request('POST', '/api/v1/payments/notify', { rawBody: raw, headers: { 'livegive-signature': signPayment(this.secrets.payment, raw) } });
  }

  private pay(rec: OrderRec, at: number): void {
    const pay = this.steps[rec.step].payments;
    pay.sent++;
    this.pending++;
    void this.notify(this.clients.payments, rec).then((r) => {
      this.pending--;
      pay.latencies.push(r.endMs - at);
      if (r.status === 200) {
        pay.ok++;
        rec.state = 'paid';
        if (Math.random() < this.opts.refundShare) this.later(this.opts.refundDelayMs, () => this.refund(rec));
      } else {
        bump(pay.errors, r.code ?? `HTTP_${r.status}`);
        if (r.status === 0 || r.status >= 500) rec.unsure = true;
      }
    });
  }

  private refund(rec: OrderRec): void {
    const ref = this.steps[rec.step].refunds;
    ref.sent++;
    this.pending++;
    void this.clients.payments.request('POST', `/api/v1/orders/${rec.id}/refund`, { headers: { authorization: `Bearer ${this.secrets.admin}` } }).then((r) => {
      this.pending--;
      if (r.status === 200) { ref.ok++; rec.state = 'refunded'; } else {
        bump(ref.errors, r.code ?? `HTTP_${r.status}`);
        if (r.status === 0 || r.status >= 500) rec.unsure = true;
      }
    });
  }

  /**
   * Settles what got no answer during the load, as a real client would: orders are replayed with the
   * same idempotency key (the server answers the order it made, or makes it now), and a payment or
   * refund that got no answer is sent again until it gets one, then read back if refused. Bounded: at most `limit` requests, 32 at a time, until the deadline.
   */
  async settleUnknowns(adminToken: string, limit = 50_000, deadlineMs = now() + 90_000): Promise<{ replayed: number; recovered: number; resent: number; readBack: number; readBackErrors: Record<string, number> }> {
    const out = { replayed: 0, recovered: 0, resent: 0, readBack: 0, readBackErrors: {} as Record<string, number> };
    const jobs: (() => Promise<void>)[] = [];
    for (const u of this.unknownPlacements.splice(0)) jobs.push(async () => {
      const r = await this.clients.payments.request('POST', '/api/v1/orders', { headers: { authorization: `Bearer ${u.token}`, 'idempotency-key': u.key }, body: u.body });
      out.replayed++;
      if (r.status !== 200 && r.status !== 201) return;
      const b = r.body as { id: string; status: OrderState; totalFen: number; pledge: { totalFen: number } };
      out.recovered++;
      this.orders.set(b.id, { id: b.id, product: u.product, qty: u.qty, totalFen: b.totalFen, pledgeFen: b.pledge.totalFen, step: u.step, state: b.status, unsure: false });
    });
    // A payment or refund with no clear answer is sent again, as a payment provider or a host does, until
    // it gets one (both are idempotent). Reading the state back instead is not enough: a request the client
    // gave up on can still sit in the server's queue and be carried out after the read.
    for (const o of this.orders.values()) if (o.unsure) jobs.push(async () => {
      for (let attempt = 0; attempt < 5 && o.unsure; attempt++) {
        const r = o.state === 'reserved'
          ? await this.notify(this.clients.payments, o)
          : await this.clients.payments.request('POST', `/api/v1/orders/${o.id}/refund`, { headers: { authorization: `Bearer ${this.secrets.admin}` } });
        if (r.status === 200) { o.state = o.state === 'reserved' ? 'paid' : 'refunded'; o.unsure = false; out.resent++; }
        else if (r.status > 0 && r.status < 500) break; // a definite refusal (an expired order, a closed window): read it back
        else await new Promise((res) => setTimeout(res, 500 * (attempt + 1)));
      }
      for (let attempt = 0; attempt < 3 && o.unsure; attempt++) {
        const r = await this.clients.payments.request('GET', `/api/v1/orders/${o.id}`, { headers: { authorization: `Bearer ${adminToken}` } });
        const st = (r.body as { status?: string } | null)?.status;
        if (r.status === 200 && (st === 'reserved' || st === 'paid' || st === 'refunded')) { o.state = st; o.unsure = false; out.readBack++; }
        else out.readBackErrors[r.code ?? `HTTP_${r.status}`] = (out.readBackErrors[r.code ?? `HTTP_${r.status}`] ?? 0) + 1;
      }
    });
    let next = 0;
    // bounded in count and time: what is still unknown at the deadline stays unknown (and the report says so)
    await Promise.all(Array.from({ length: 32 }, async () => { while (next < Math.min(jobs.length, limit) && now() < deadlineMs) await jobs[next++](); }));
    return out;
  }

  /** One probe at a time, every probeEveryMs until the step ends: order, then its payment, timed. */
  private async probeLoop(stepIdx: number, untilMs: number): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    const product = this.seed.products.findIndex((p) => p.role === 'probe');
    const p = this.seed.products[product];
    try {
      while (now() < untilMs && this.probeFailures < 5) {
        const next = now() + this.opts.probeEveryMs;
        const o = await this.clients.probes.request('POST', '/api/v1/orders', {
          headers: { authorization: `Bearer ${this.seed.probeBuyer.token}`, 'idempotency-key': `${this.runId}-probe-${++this.seq}` },
          body: { streamId: this.seed.streamId, productId: p.id, quantity: 1 },
        });
        if (o.status === 201) {
          const b = o.body as { id: string; totalFen: number; pledge: { totalFen: number } };
          const rec: OrderRec = { id: b.id, product, qty: 1, totalFen: b.totalFen, pledgeFen: b.pledge.totalFen, step: stepIdx, state: 'reserved', unsure: false };
          this.orders.set(rec.id, rec);
          this.probes.sent(stepIdx, now());
          const r = await this.notify(this.clients.probes, rec);
          if (r.status === 200) rec.state = 'paid';
          else {
            // a payment with no clear answer may still have counted: later thresholds would be off, so stop probing
            this.probes.unsend();
            rec.unsure = r.status === 0 || r.status >= 500;
            this.probeFailures += rec.unsure ? 5 : 1;
          }
        } else this.probeFailures++;
        await new Promise((r) => setTimeout(r, Math.max(0, next - now())));
      }
    } finally {
      this.probing = false;
    }
  }
}
