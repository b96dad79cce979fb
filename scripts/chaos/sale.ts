import { randomBytes } from 'node:crypto';
import { call, sleep, Answer } from './http-client';
import { signPayment } from '../../src/orders/payment-signature';
import { usccCheckChar } from '../../src/catalog/uscc';
import type { ClientRecord } from './invariants';

export interface SaleSetup { streamId: string; hostToken: string; productIds: string[]; charityIds: string[]; viewers: { id: string; token: string }[] }
export interface SaleStats { attempts: number; accepted: number; refused: Record<string, number>; retried: Record<string, number>; paid: number; paymentRefused: Record<string, number>; refunded: number; maxInFlight: number; unresolved: number }

const uscc = () => {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  let s = '5342';
  for (let i = 0; i < 13; i++) s += alphabet[randomBytes(1)[0] % alphabet.length];
  return s + usccCheckChar(s);
};

/**
 * A simulated sale against one or more API instances: viewers buy pinned products (retrying with the same
 * Idempotency-Key until they get a definite answer, as a real client would), the payment provider pays
 * most orders (retrying until 2xx or a definite refusal), the host refunds a few. Everything the service
 * promised is recorded for the invariant check.
 */
export class Sale {
  readonly record: ClientRecord = { accepted: new Map(), paymentsAcked: new Set(), refundsAcked: new Set() };
  readonly stats: SaleStats = { attempts: 0, accepted: 0, refused: {}, retried: {}, paid: 0, paymentRefused: {}, refunded: 0, maxInFlight: 0, unresolved: 0 };
  inFlight = 0;
  private next = 0;
  private stopping = false;
  setup!: SaleSetup;

  constructor(private readonly urls: () => string[], private readonly opts: { adminToken: string; paymentSecret: string; random: () => number; payRatio?: number; refundRatio?: number }) {}

  /** A live stream with products pledging to a few charities, and signed-up viewers. */
  async prepare(p: { charities: number; products: number; stock: number; viewers: number; buyerLimit?: number }): Promise<SaleSetup> {
    const base = this.urls()[0];
    const must = async <T>(a: Promise<Answer<T>>, what: string) => { const r = await a; if (r.status >= 300 || r.status === 0) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`); return r.body; };
    const admin = this.opts.adminToken;
    const charityIds: string[] = [];
    for (let i = 0; i < p.charities; i++) charityIds.push((await must(call<{ id: string }>(base, 'POST', '/api/v1/charities', { token: admin, body: { name: `慈善会 ${i}`, registrationNo: uscc() } }), 'charity')).id);
    const host = await must(call<{ id: string; token: string }>(base, 'POST', '/api/v1/hosts', { token: admin, body: { name: '主播' } }), 'host');
    const productIds: string[] = [];
    for (let i = 0; i < p.products; i++) {
      const body = { name: `脐橙 ${i}`, origin: '江西省赣州市', unit: '箱', priceFen: 3990 + i * 100, stock: p.stock, buyerLimit: p.buyerLimit ?? 1000, pledge: { charityId: charityIds[i % charityIds.length], perUnitFen: 500 + i * 7 } };
      productIds.push((await must(call<{ id: string }>(base, 'POST', '/api/v1/products', { token: host.token, body }), 'product')).id);
    }
    const stream = await must(call<{ id: string }>(base, 'POST', '/api/v1/streams', { token: host.token, body: { title: '助农直播', goalFen: 1_000_000 } }), 'stream');
    await must(call(base, 'PUT', `/api/v1/streams/${stream.id}/products`, { token: host.token, body: { productIds } }), 'pin');
    await must(call(base, 'POST', `/api/v1/streams/${stream.id}/start`, { token: host.token }), 'start');
    const viewers: SaleSetup['viewers'] = [];
    for (let i = 0; i < p.viewers; i++) viewers.push(await must(call<{ id: string; token: string }>(base, 'POST', '/api/v1/viewers', { body: { nickname: `观众${i}` } }), 'viewer'));
    this.setup = { streamId: stream.id, hostToken: host.token, productIds, charityIds, viewers };
    return this.setup;
  }

  private url(): string { const u = this.urls(); return u[this.next++ % u.length]; }

  /** Runs `concurrency` buyers until stop() (or `until` passes); each buyer resolves its order before the next. */
  async run(concurrency: number, until = Infinity): Promise<void> {
    this.stopping = false;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (!this.stopping && Date.now() < until) await this.buyOnce();
    }));
  }

  stop(): void { this.stopping = true; }

  /** Retries a request until it gets an answer other than "no answer / 5xx / 429", for up to `forMs`. */
  private async definite<T>(send: (url: string) => Promise<Answer<T>>, forMs = 120_000): Promise<Answer<T>> {
    const deadline = Date.now() + forMs;
    for (let i = 0; ; i++) {
      this.inFlight++;
      this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
      const a = await send(this.url()).finally(() => { this.inFlight--; });
      if (a.status !== 0 && a.status < 500 && a.status !== 429) return a;
      const code = a.status === 0 ? 'no answer' : `${a.status} ${(a.body as { error?: { code?: string } })?.error?.code ?? ''}`.trim();
      this.stats.retried[code] = (this.stats.retried[code] ?? 0) + 1;
      if (Date.now() > deadline) return a;
      await sleep(Math.min(2000, 100 * 2 ** Math.min(i, 4)) + Math.floor(this.opts.random() * 100));
    }
  }

  private async buyOnce(): Promise<void> {
    const r = this.opts.random;
    const s = this.setup;
    const viewer = s.viewers[Math.floor(r() * s.viewers.length)];
    const productId = s.productIds[Math.floor(r() * s.productIds.length)];
    const body = { streamId: s.streamId, productId, quantity: 1 + Math.floor(r() * 2) };
    const key = randomBytes(12).toString('hex');
    this.stats.attempts++;
    const a = await this.definite<{ id: string; totalFen: number; error?: { code: string } }>((u) => call(u, 'POST', '/api/v1/orders', { token: viewer.token, body, headers: { 'idempotency-key': key } }));
    if (a.status !== 201 && a.status !== 200) {
      if (a.status === 0 || a.status >= 500) this.stats.unresolved++;
      const code = a.body?.error?.code ?? String(a.status);
      this.stats.refused[code] = (this.stats.refused[code] ?? 0) + 1;
      if (code === 'OUT_OF_STOCK') await sleep(50);
      return;
    }
    this.record.accepted.set(a.body.id, { productId, quantity: body.quantity });
    this.stats.accepted++;
    if (r() >= (this.opts.payRatio ?? 0.8)) return;
    const paid = await this.pay(a.body.id, a.body.totalFen);
    if (paid && r() < (this.opts.refundRatio ?? 0.1)) await this.refund(a.body.id);
  }

  /** The payment provider: signs the notice, retries until a 2xx or a definite refusal. */
  async pay(orderId: string, amountFen: number): Promise<boolean> {
    const raw = JSON.stringify({ orderId, paymentId: `pay_${orderId}`, amountFen, status: 'succeeded' });
    const a = await this.definite((u) => call(u, 'POST', '/api/v1/payments/notify', { raw, headers: { 'livegive-signature': signPayment(this.opts.paymentSecret, raw) } }));
    if (a.status === 200) { this.record.paymentsAcked.add(orderId); this.stats.paid++; return true; }
    const code = (a.body as { error?: { code?: string } })?.error?.code ?? String(a.status);
    this.stats.paymentRefused[code] = (this.stats.paymentRefused[code] ?? 0) + 1;
    return false;
  }

  async refund(orderId: string): Promise<boolean> {
    const a = await this.definite((u) => call(u, 'POST', `/api/v1/orders/${orderId}/refund`, { token: this.setup.hostToken }));
    if (a.status === 200) { this.record.refundsAcked.add(orderId); this.stats.refunded++; return true; }
    return false;
  }
}
