import { randomBytes } from 'node:crypto';
import { startService, TestService } from '../helpers/app';
import { ADMIN_TOKEN, PAYMENT_SECRET, waitFor } from '../helpers/env';
import { call, rng } from '../../scripts/chaos/http-client';
import { Sale } from '../../scripts/chaos/sale';
import { usccCheckChar } from '../../src/catalog/uscc';
import { rsaPair, apiV3Key } from '../helpers/providers';

/** Who calls: anonymous, then each role, and a second principal of each role that owns nothing here. */
const who = ['none', 'viewer', 'otherViewer', 'host', 'otherHost', 'charity', 'otherCharity', 'operator'] as const;
type Who = (typeof who)[number];

interface Ctx { charityId: string; hostId: string; productId: string; streamId: string; endStreamId: string; orderId: string; paidOrderId: string; matchId: string; refundable: Record<Who, string>; agreements: { accept: string; decline: string; suspend: string }; agreementId: string; remittanceIds: { ack: string; dispute: string } }
interface Row { route: string; req: (c: Ctx, w: Who) => { path: string; body?: unknown; headers?: Record<string, string> }; expect: number[] }

const uscc = () => { let s = '5342'; for (let i = 0; i < 13; i++) s += '0123456789ABCDEFGHJKLMNPQRTUWXY'[randomBytes(1)[0] % 31]; return s + usccCheckChar(s); };
const key = () => ({ 'idempotency-key': randomBytes(8).toString('hex') });
const platformKey = rsaPair().publicKeyPem;
/** An agreement proposal to the charity for one year from `year` (distinct years never overlap). */
const proposal = (charityId: string, year: number) => ({ charityId, perUnitFen: 100, onCap: 'continue_without_donation', validFrom: `${year}-01-01T00:00:00.000Z`, validTo: `${year + 1}-01-01T00:00:00.000Z`, remitWithinDays: 30 });

// The matrix: one row per route, one expected status per principal, in the order of `who`:
//            none  viewer oViewer host  oHost charity oCharity operator
const rows: Row[] = [
  { route: 'POST /api/v1/charities', req: () => ({ path: '/api/v1/charities', body: { name: '新慈善', registrationNo: uscc() } }), expect: [401, 403, 403, 403, 403, 403, 403, 201] },
  { route: 'PATCH /api/v1/charities/{id}', req: (c) => ({ path: `/api/v1/charities/${c.charityId}`, body: { active: true } }), expect: [401, 403, 403, 403, 403, 403, 403, 200] },
  { route: 'POST /api/v1/hosts', req: () => ({ path: '/api/v1/hosts', body: { name: '新主播' } }), expect: [401, 403, 403, 403, 403, 403, 403, 201] },
  { route: 'POST /api/v1/viewers', req: () => ({ path: '/api/v1/viewers', body: { nickname: '新观众' } }), expect: [201, 201, 201, 201, 201, 201, 201, 201] },
  { route: 'POST /api/v1/products', req: (c) => ({ path: '/api/v1/products', body: { name: '苹果', origin: '陕西', unit: '箱', priceFen: 5000, stock: 5, pledge: { charityId: c.charityId, perUnitFen: 100 } } }), expect: [401, 403, 403, 201, 201, 403, 403, 403] },
  { route: 'GET /api/v1/products/{id}', req: (c) => ({ path: `/api/v1/products/${c.productId}` }), expect: [401, 403, 403, 200, 404, 403, 403, 200] },
  { route: 'PATCH /api/v1/products/{id}', req: (c) => ({ path: `/api/v1/products/${c.productId}`, body: { buyerLimit: 1000 } }), expect: [401, 403, 403, 200, 404, 403, 403, 200] },
  { route: 'POST /api/v1/streams', req: () => ({ path: '/api/v1/streams', body: { title: '直播' } }), expect: [401, 403, 403, 201, 201, 403, 403, 403] },
  { route: 'PUT /api/v1/streams/{id}/products', req: (c) => ({ path: `/api/v1/streams/${c.streamId}/products`, body: { productIds: [c.productId] } }), expect: [401, 403, 403, 200, 404, 403, 403, 200] },
  { route: 'POST /api/v1/streams/{id}/start', req: (c) => ({ path: `/api/v1/streams/${c.streamId}/start` }), expect: [401, 403, 403, 200, 404, 403, 403, 200] },
  { route: 'POST /api/v1/streams/{id}/end', req: (c) => ({ path: `/api/v1/streams/${c.endStreamId}/end` }), expect: [401, 403, 403, 200, 404, 403, 403, 200] },
  { route: 'GET /api/v1/streams/{id}', req: (c) => ({ path: `/api/v1/streams/${c.streamId}` }), expect: [200, 200, 200, 200, 200, 200, 200, 200] },
  { route: 'POST /api/v1/orders', req: (c) => ({ path: '/api/v1/orders', headers: key(), body: { streamId: c.streamId, productId: c.productId, quantity: 1 } }), expect: [401, 201, 201, 403, 403, 403, 403, 403] },
  { route: 'GET /api/v1/orders/{id}', req: (c) => ({ path: `/api/v1/orders/${c.orderId}` }), expect: [401, 200, 404, 200, 404, 403, 403, 200] },
  // only its own viewer cancels an unpaid order; another viewer does not learn that it exists
  { route: 'POST /api/v1/orders/{id}/cancel', req: (c) => ({ path: `/api/v1/orders/${c.orderId}/cancel` }), expect: [401, 200, 404, 403, 403, 403, 403, 403] },
  // a bearer token is no payment signature: only the HMAC counts
  { route: 'POST /api/v1/payments/notify', req: (c) => ({ path: '/api/v1/payments/notify', body: { orderId: c.orderId, paymentId: 'p1', amountFen: 5000, status: 'succeeded' } }), expect: [401, 401, 401, 401, 401, 401, 401, 401] },
  // one paid order per caller: a second refund of one order trips a known allocator bug (see the chaos report)
  { route: 'GET /api/v1/payments/anomalies', req: () => ({ path: '/api/v1/payments/anomalies' }), expect: [401, 403, 403, 403, 403, 403, 403, 200] },
  { route: 'POST /api/v1/orders/{id}/refund', req: (c, w) => ({ path: `/api/v1/orders/${c.refundable[w]}/refund` }), expect: [401, 403, 403, 200, 404, 403, 403, 200] },
  { route: 'GET /api/v1/charities/{id}/ledger', req: (c) => ({ path: `/api/v1/charities/${c.charityId}/ledger` }), expect: [401, 403, 403, 403, 403, 200, 403, 200] },
  { route: 'GET /api/v1/charities/{id}/statements', req: (c) => ({ path: `/api/v1/charities/${c.charityId}/statements?from=2026-01-01T00:00:00.000Z&to=2027-01-01T00:00:00.000Z` }), expect: [401, 403, 403, 403, 403, 200, 403, 200] },
  { route: 'GET /api/v1/charities/{id}/chain', req: (c) => ({ path: `/api/v1/charities/${c.charityId}/chain` }), expect: [401, 403, 403, 403, 403, 200, 403, 200] },
  { route: 'POST /api/v1/matches', req: (c) => ({ path: '/api/v1/matches', body: { sponsorName: '赞助商', streamId: c.streamId, charityId: c.charityId, ratioPercent: 100, capFen: 1000 } }), expect: [401, 403, 403, 403, 403, 403, 403, 201] },
  { route: 'GET /api/v1/matches/{id}', req: (c) => ({ path: `/api/v1/matches/${c.matchId}` }), expect: [401, 403, 403, 403, 403, 403, 403, 200] },
  { route: 'PUT /api/v1/hosts/{id}/merchants/wechatpay', req: (c) => ({ path: `/api/v1/hosts/${c.hostId}/merchants/wechatpay`, body: { mchid: '1900000001', appid: 'wx1', apiV3Key: apiV3Key(), platformKeys: [{ serial: 'PUB_KEY_ID_1', publicKeyPem: platformKey }] } }), expect: [401, 403, 403, 403, 403, 403, 403, 200] },
  { route: 'PUT /api/v1/hosts/{id}/merchants/alipay', req: (c) => ({ path: `/api/v1/hosts/${c.hostId}/merchants/alipay`, body: { appId: '2021000117600000', sellerId: '2088102177000000', alipayPublicKeyPem: platformKey } }), expect: [401, 403, 403, 403, 403, 403, 403, 200] },
  // provider notifications are public: only the provider's signature counts, never a bearer token
  { route: 'POST /api/v1/payments/wechatpay/{mchid}/notify', req: () => ({ path: '/api/v1/payments/wechatpay/1900000001/notify', body: { id: 'EV-1' } }), expect: [401, 401, 401, 401, 401, 401, 401, 401] },
  { route: 'POST /api/v1/payments/alipay/{appId}/notify', req: () => ({ path: '/api/v1/payments/alipay/2021000117600000/notify', body: { sign: 'x' } }), expect: [400, 400, 400, 400, 400, 400, 400, 400] },
  // the operator passes; an empty bill is then refused as such
  { route: 'POST /api/v1/reconciliations', req: () => ({ path: '/api/v1/reconciliations?provider=wechatpay' }), expect: [401, 403, 403, 403, 403, 403, 403, 422] },
  { route: 'GET /api/v1/streams/{id}/totals', req: (c) => ({ path: `/api/v1/streams/${c.streamId}/totals` }), expect: [200, 200, 200, 200, 200, 200, 200, 200] },
  { route: 'GET /api/v1/public/charities/{id}', req: (c) => ({ path: `/api/v1/public/charities/${c.charityId}` }), expect: [200, 200, 200, 200, 200, 200, 200, 200] },
  // the consoles' read routes (src/console): another host's lists answer 404, as its streams do
  { route: 'GET /api/v1/me', req: () => ({ path: '/api/v1/me' }), expect: [401, 200, 200, 200, 200, 200, 200, 200] },
  { route: 'GET /api/v1/hosts/{id}/streams', req: (c) => ({ path: `/api/v1/hosts/${c.hostId}/streams` }), expect: [401, 403, 403, 200, 404, 403, 403, 200] },
  { route: 'GET /api/v1/hosts/{id}/products', req: (c) => ({ path: `/api/v1/hosts/${c.hostId}/products` }), expect: [401, 403, 403, 200, 404, 403, 403, 200] },
  { route: 'GET /api/v1/streams/{id}/reservations', req: (c) => ({ path: `/api/v1/streams/${c.streamId}/reservations` }), expect: [401, 403, 403, 200, 404, 403, 403, 200] },
  { route: 'GET /api/v1/charities/{id}/ledger/orders/{orderId}', req: (c) => ({ path: `/api/v1/charities/${c.charityId}/ledger/orders/${c.paidOrderId}` }), expect: [401, 403, 403, 403, 403, 200, 403, 200] },
  { route: 'GET /api/v1/charities/{id}/verify', req: (c) => ({ path: `/api/v1/charities/${c.charityId}/verify` }), expect: [401, 403, 403, 403, 403, 200, 403, 200] },
  // pledge agreements: a host proposes; only the named charity answers (another charity does not learn it exists)
  { route: 'POST /api/v1/agreements', req: (c) => ({ path: '/api/v1/agreements', body: proposal(c.charityId, 2040) }), expect: [401, 403, 403, 201, 201, 403, 403, 403] },
  { route: 'POST /api/v1/agreements/{id}/accept', req: (c) => ({ path: `/api/v1/agreements/${c.agreements.accept}/accept` }), expect: [401, 403, 403, 403, 403, 200, 404, 403] },
  { route: 'POST /api/v1/agreements/{id}/decline', req: (c) => ({ path: `/api/v1/agreements/${c.agreements.decline}/decline` }), expect: [401, 403, 403, 403, 403, 200, 404, 403] },
  { route: 'POST /api/v1/agreements/{id}/suspend', req: (c) => ({ path: `/api/v1/agreements/${c.agreements.suspend}/suspend` }), expect: [401, 403, 403, 403, 403, 200, 404, 403] },
  { route: 'GET /api/v1/agreements', req: () => ({ path: '/api/v1/agreements' }), expect: [401, 403, 403, 200, 200, 200, 200, 200] },
  { route: 'GET /api/v1/public/receipts/{orderId}', req: (c) => ({ path: `/api/v1/public/receipts/${c.paidOrderId}` }), expect: [200, 200, 200, 200, 200, 200, 200, 200] },
  // remittances (issue 15): only the agreement's host remits (nothing is confirmed yet here: its answer is the 422 past access);
  // another host's agreement answers 404; only the agreement's charity answers a remittance, another charity gets 404
  { route: 'POST /api/v1/remittances', req: (c) => ({ path: '/api/v1/remittances', body: { agreementId: c.agreementId, amountFen: 100, paidAt: new Date().toISOString(), reference: 'BANK-1' } }), expect: [401, 403, 403, 422, 404, 403, 403, 403] },
  { route: 'POST /api/v1/remittances/{id}/acknowledge', req: (c) => ({ path: `/api/v1/remittances/${c.remittanceIds.ack}/acknowledge` }), expect: [401, 403, 403, 403, 403, 200, 404, 403] },
  { route: 'POST /api/v1/remittances/{id}/dispute', req: (c) => ({ path: `/api/v1/remittances/${c.remittanceIds.dispute}/dispute`, body: { reason: '未到账' } }), expect: [401, 403, 403, 403, 403, 200, 404, 403] },
  { route: 'GET /api/v1/public/charities/{id}/agreements', req: (c) => ({ path: `/api/v1/public/charities/${c.charityId}/agreements` }), expect: [200, 200, 200, 200, 200, 200, 200, 200] },
];

describe('access matrix: every route × every principal', () => {
  let svc: TestService;
  const tokens = {} as Record<Who, string | undefined>;
  let ctx: Ctx;

  beforeAll(async () => {
    svc = await startService('all', { LIVEGIVE_DEFAULT_BUYER_LIMIT: '1000', LIVEGIVE_SECRETS_KEY: randomBytes(32).toString('hex') });
    const sale = new Sale(() => [svc.url], { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random: rng(3), payRatio: 1, refundRatio: 0 });
    const s = await sale.prepare({ charities: 2, products: 1, stock: 100, viewers: 2 });
    const other = await sale.prepare({ charities: 1, products: 1, stock: 1, viewers: 0 });
    const admin = ADMIN_TOKEN;
    // charity tokens are shown once at registration: register two charities whose tokens we keep
    const mk = async () => (await call<{ id: string; token: string }>(svc.url, 'POST', '/api/v1/charities', { token: admin, body: { name: '受益慈善', registrationNo: uscc() } })).body;
    const [mine, theirs] = [await mk(), await mk()];
    const host = s.hostToken;
    const product = await call<{ id: string; hostId: string }>(svc.url, 'POST', '/api/v1/products', { token: host, body: { name: '脐橙', origin: '赣州', unit: '箱', priceFen: 5000, stock: 100, pledge: { charityId: mine.id, perUnitFen: 700 } } });
    await call(svc.url, 'PUT', `/api/v1/streams/${s.streamId}/products`, { token: host, body: { productIds: [...s.productIds, product.body.id] } });
    const endStream = await call<{ id: string }>(svc.url, 'POST', '/api/v1/streams', { token: host, body: { title: '将结束' } });
    await call(svc.url, 'POST', `/api/v1/streams/${endStream.body.id}/start`, { token: host });
    const order = (t: string) => call<{ id: string; totalFen: number }>(svc.url, 'POST', '/api/v1/orders', { token: t, headers: key(), body: { streamId: s.streamId, productId: product.body.id, quantity: 1 } });
    const o1 = (await order(s.viewers[0].token)).body;
    const o2 = (await order(s.viewers[0].token)).body;
    if (!(await sale.pay(o2.id, o2.totalFen))) throw new Error('setup payment failed');
    const refundable = {} as Record<Who, string>;
    for (const w of who) {
      const o = (await order(s.viewers[0].token)).body;
      if (!(await sale.pay(o.id, o.totalFen))) throw new Error('setup payment failed');
      refundable[w] = o.id;
    }
    const match = await call<{ id: string }>(svc.url, 'POST', '/api/v1/matches', { token: admin, body: { sponsorName: '赞助', streamId: s.streamId, charityId: mine.id, ratioPercent: 50, capFen: 10_000 } });
    const propose = async (year: number) => (await call<{ id: string }>(svc.url, 'POST', '/api/v1/agreements', { token: host, body: proposal(mine.id, year) })).body.id;
    const agreements = { accept: await propose(2030), decline: await propose(2032), suspend: await propose(2034) };
    await call(svc.url, 'POST', `/api/v1/agreements/${agreements.suspend}/accept`, { token: mine.token });
    // an agreement of this host with this charity, and two remittances under it, straight into their collections
    const agreementId = `ag_${randomBytes(6).toString('hex')}`;
    const now = new Date();
    await svc.deps.db.collection('agreements').insertOne({ _id: agreementId as never, hostId: product.body.hostId, charityId: mine.id, perUnitFen: 700, capFen: null, capUnits: null, onCap: 'continue_without_donation', productIds: null, streamIds: null, validFrom: now, validTo: new Date(now.getTime() + 86_400_000), remitWithinDays: 30, status: 'accepted', migrated: false, createdAt: now, updatedAt: now, acceptedAt: now });
    const remittanceIds = { ack: `rm_${randomBytes(6).toString('hex')}`, dispute: `rm_${randomBytes(6).toString('hex')}` };
    for (const id of Object.values(remittanceIds)) await svc.deps.db.collection('remittances').insertOne({ _id: id as never, agreementId, charityId: mine.id, hostId: product.body.hostId, amountFen: 100, paidAt: now, reference: 'BANK-0', coversFrom: 0, coversTo: 0, status: 'sent', createdAt: now });
    Object.assign(tokens, { none: undefined, viewer: s.viewers[0].token, otherViewer: s.viewers[1].token, host, otherHost: other.hostToken, charity: mine.token, otherCharity: theirs.token, operator: admin });
    ctx = { charityId: mine.id, hostId: product.body.hostId, productId: product.body.id, streamId: s.streamId, endStreamId: endStream.body.id, orderId: o1.id, paidOrderId: o2.id, matchId: match.body.id, refundable, agreements, agreementId, remittanceIds };
    // the receipt exists once the allocator has written the entry
    await waitFor(async () => (await call(svc.url, 'GET', `/api/v1/public/receipts/${o2.id}`)).status === 200, 'the receipt', 20000);
  });
  afterAll(async () => { await svc?.stop(); });

  it('when the OpenAPI document lists a route, then the matrix has a row for it', async () => {
    const doc = (await call<{ paths: Record<string, Record<string, unknown>> }>(svc.url, 'GET', '/api/v1/openapi.json')).body;
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    expect(rows.map((r) => r.route).sort()).toEqual(documented);
  });

  it('when each principal calls each route, then the answer is the one in the matrix', async () => {
    const got: string[] = [];
    const want: string[] = [];
    for (const row of rows) {
      const method = row.route.split(' ')[0];
      const answers: number[] = [];
      for (const w of who) {
        let a = { status: 0 };
        // a 503 (totals briefly rebuilt by the allocator) says nothing about access: ask again
        for (let i = 0; i < 20 && (a.status === 0 || a.status === 503); i++) {
          if (i) await new Promise((res) => setTimeout(res, 250));
          const r = row.req(ctx, w);
          a = await call(svc.url, method, r.path, { token: tokens[w], body: r.body, headers: r.headers });
        }
        answers.push(a.status);
      }
      got.push(`${row.route.padEnd(42)} ${answers.join(' ')}`);
      want.push(`${row.route.padEnd(42)} ${row.expect.join(' ')}`);
    }
    expect(got.join('\n')).toBe(want.join('\n'));
  }, 120_000);

  it('when a refusal is answered, then its body has a stable error code and no stack or token', async () => {
    const a = await call<{ error: { code: string; message: string } }>(svc.url, 'GET', `/api/v1/charities/${ctx.charityId}/ledger`, { token: tokens.otherCharity });
    expect(a.body.error.code).toBe('FORBIDDEN');
    expect(JSON.stringify(a.body)).not.toMatch(/at .*\.ts:\d+|lg_(viewer|host|charity)_/);
  });
});
