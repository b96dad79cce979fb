import http from 'node:http';
import { startService, TestService } from '../helpers/app';
import { ADMIN_TOKEN, PAYMENT_SECRET, waitFor } from '../helpers/env';
import { call, rng } from '../../scripts/chaos/http-client';
import { Sale } from '../../scripts/chaos/sale';

const get = (url: string, headers: Record<string, string>) => new Promise<{ status: number; body: string }>((resolve, reject) => {
  http.get(url, { headers }, (res) => {
    let body = '';
    res.on('data', (c) => { body += c; });
    res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
  }).on('error', reject);
});

/** Public reads: limited per address group (IPv4 /32, IPv6 /64, through a trusted proxy's X-Forwarded-For) and cacheable. */
describe('abuse: public reads', () => {
  let svc: TestService;
  let sale: Sale;
  let receiptOf: string;
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  beforeAll(async () => {
    svc = await startService('all', {
      LIVEGIVE_RATE_LIMITS: 'on', LIVEGIVE_TRUST_PROXY: 'true', LIVEGIVE_RATE_RECEIPTS_PER_MINUTE: '10', LIVEGIVE_RATE_PUBLIC_READS_PER_MINUTE: '30',
      LIVEGIVE_RATE_SIGNUPS_PER_MINUTE: '20',
    });
    sale = new Sale(() => [svc.url], { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random: rng(19), payRatio: 1, refundRatio: 0 });
    await sale.prepare({ charities: 1, products: 1, stock: 100, viewers: 1 });
    const o = await call<{ id: string; totalFen: number }>(svc.url, 'POST', '/api/v1/orders', {
      token: sale.setup.viewers[0].token, headers: { 'idempotency-key': 'public-1', ...from('198.51.100.1') }, body: { streamId: sale.setup.streamId, productId: sale.setup.productIds[0], quantity: 1 },
    });
    expect(await sale.pay(o.body.id, o.body.totalFen)).toBe(true);
    receiptOf = o.body.id;
    await waitFor(async () => (await call(svc.url, 'GET', `/api/v1/public/receipts/${receiptOf}`, { headers: from('198.51.100.2') })).status === 200, 'the receipt');
  });
  afterAll(async () => { await svc?.stop(); });

  it('when one IPv6 /64 floods receipt look-ups from ever-new addresses, then it is limited as one group, and another /64 and an honest buyer are not', async () => {
    const answers = [];
    for (let i = 0; i < 14; i++) answers.push(await call(svc.url, 'GET', `/api/v1/public/receipts/o_unknown${i}`, { headers: from(`2001:db8:bad:1::${(i + 1).toString(16)}`) }));
    expect(answers.slice(0, 10).map((a) => a.status)).toEqual(Array(10).fill(404));
    expect(answers.slice(10).map((a) => a.status)).toEqual([429, 429, 429, 429]);
    expect((answers[13].body as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    expect(answers[13].retryAfter).toBeGreaterThanOrEqual(1);
    expect((await call(svc.url, 'GET', `/api/v1/public/receipts/${receiptOf}`, { headers: from('2001:db8:bad:2::1') })).status).toBe(200);
    expect((await call(svc.url, 'GET', `/api/v1/public/receipts/${receiptOf}`, { headers: from('203.0.113.50') })).status).toBe(200);
  });

  it('when a client writes its own X-Forwarded-For entries in front of the one the balancer appends, then it is counted by the appended one', async () => {
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push((await call(svc.url, 'GET', `/api/v1/public/receipts/o_spoof${i}`, { headers: from(`10.9.${i}.1, 2001:db8:${i}::1, 198.51.100.99`) })).status);
    expect(answers).toEqual([...Array(10).fill(404), 429, 429]);
  });

  it('when many addresses of one IPv6 /64 sign up, then the per-address backstop counts them as one', async () => {
    const answers = [];
    for (let i = 0; i < 22; i++) answers.push((await call(svc.url, 'POST', '/api/v1/viewers', { headers: from(`2001:db8:5:5:${i.toString(16)}::1`), body: { nickname: `bot${i}` } })).status);
    expect(answers.filter((s) => s === 201)).toHaveLength(20);
    expect(answers.slice(20)).toEqual([429, 429]);
    expect((await call(svc.url, 'POST', '/api/v1/viewers', { headers: from('2001:db8:5:6::1'), body: { nickname: 'human' } })).status).toBe(201);
  });

  it('when the public stream totals, stream, charity head and page are flooded from one address, then they are limited there and nowhere else', async () => {
    const paths = [`/api/v1/streams/${sale.setup.streamId}/totals`, `/api/v1/streams/${sale.setup.streamId}`, `/api/v1/public/charities/${sale.setup.charityIds[0]}`, `/charities/${sale.setup.charityIds[0]}`];
    const statuses: number[] = [];
    for (let i = 0; i < 34; i++) statuses.push((await call(svc.url, 'GET', paths[i % 4], { headers: from('192.0.2.77') })).status);
    expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(30)).toEqual([429, 429, 429, 429]);
    for (const p of paths) expect((await call(svc.url, 'GET', p, { headers: from('192.0.2.78') })).status).toBe(200);
  });

  it.each([
    ['a receipt', () => `/api/v1/public/receipts/${receiptOf}`],
    ['the public charity head', () => `/api/v1/public/charities/${sale.setup.charityIds[0]}`],
    ['the public charity page', () => `/charities/${sale.setup.charityIds[0]}`],
    ['the stream totals', () => `/api/v1/streams/${sale.setup.streamId}/totals`],
    ['the public stream', () => `/api/v1/streams/${sale.setup.streamId}`],
  ])('when %s is read, then it carries an ETag and a short public Cache-Control, and If-None-Match answers 304 without a body', async (_what, path) => {
    const ip = { 'x-forwarded-for': `100.64.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}` };
    const first = await fetch(svc.url + path(), { headers: ip });
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    const cc = first.headers.get('cache-control') ?? '';
    expect(cc).toMatch(/^public, max-age=(\d+)$/);
    expect(Number(/max-age=(\d+)/.exec(cc)![1])).toBeLessThanOrEqual(10);
    // fetch() would add Cache-Control: no-cache to a conditional request (an end-to-end reload): ask as a cache does
    const again = await get(svc.url + path(), { ...ip, 'if-none-match': etag! });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('when a public read is refused (unknown receipt, rate limit), then the refusal is not marked cacheable', async () => {
    const a = await fetch(`${svc.url}/api/v1/public/receipts/o_nobody`, { headers: from('100.99.0.1') });
    expect(a.status).toBe(404);
    expect(a.headers.get('cache-control') ?? '').not.toMatch(/public/);
  });
});

describe('abuse: public reads without a trusted proxy', () => {
  let svc: TestService;
  beforeAll(async () => { svc = await startService('all', { LIVEGIVE_RATE_LIMITS: 'on', LIVEGIVE_TRUST_PROXY: 'false', LIVEGIVE_RATE_RECEIPTS_PER_MINUTE: '3' }); });
  afterAll(async () => { await svc?.stop(); });

  it('when a client forges X-Forwarded-For with a new address each time, then it is still counted by its own address', async () => {
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await call(svc.url, 'GET', `/api/v1/public/receipts/o_forged${i}`, { headers: { 'x-forwarded-for': `2001:db8:${i}::1` } })).status);
    expect(answers).toEqual([404, 404, 404, 429, 429]);
  });
});
