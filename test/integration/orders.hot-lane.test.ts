import http from 'node:http';
import { startService, TestService } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { newKey } from '../helpers/orders';
import { PAYMENT_SECRET } from '../helpers/env';
import { signPayment } from '../../src/orders/payment-signature';
import { buildApp } from '../../src/app';
import { slices } from '../../src/slices';
import type { HotLane } from '../../src/infra/hot-lane';

interface Answer { status: number; headers: http.IncomingHttpHeaders; text: string }

function send(base: string, path: string, headers: Record<string, string>, body: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(base + path, { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What a client can see of an answer, with the values that differ per request (ids, times) named only by presence. */
function seen(a: Answer): unknown {
  const body = a.text ? JSON.parse(a.text) : null;
  const vary = new Set(['id', 'orderId', 'createdAt', 'expiresAt', 'message']);
  const shape = body && typeof body === 'object' && !body.error ? Object.fromEntries(Object.entries(body).map(([k, v]) => [k, vary.has(k) ? typeof v : v])) : body?.error?.code;
  return {
    status: a.status, type: a.headers['content-type'], length: a.headers['content-length'] === String(Buffer.byteLength(a.text)),
    requestId: Boolean(a.headers['x-request-id']), etag: a.headers.etag ?? null, retryAfter: a.headers['retry-after'] ?? null, shape,
  };
}

describe('orders: the hot lane answers as express does', () => {
  let svc: TestService;
  let w: World;
  let lane: HotLane;
  const servers: http.Server[] = [];
  let withLane: string;
  let plain: string;

  const listen = async (app: http.RequestListener) => {
    const s = http.createServer(app);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as { port: number }).port}`;
  };

  beforeAll(async () => {
    svc = await startService('all');
    w = await seedWorld(svc.url, { priceFen: 1000, perUnitFen: 100, stock: 1000 });
    const built = buildApp(svc.deps, slices);
    lane = built.hotLane!;
    withLane = await listen(built.app);
    plain = await listen(buildApp(svc.deps, slices, undefined, { hotLane: false }).app);
  });
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
    await svc?.stop();
  });

  it('when the same order requests (valid, malformed, unauthenticated, refused, too large, of another type) go to both, then every answer is the same, and the lane took exactly the plain JSON ones', async () => {
    const viewer = await newViewer(svc.url);
    const auth = { Authorization: `Bearer ${viewer.token}` };
    const json = { 'Content-Type': 'application/json' };
    const good = JSON.stringify({ streamId: w.stream.id, productId: w.product.id, quantity: 1 });
    const cases: [string, Record<string, string>, string | Buffer, boolean][] = [
      ['a valid order', { ...json, ...auth }, good, true],
      ['a valid order, charset named', { 'Content-Type': 'application/json; charset=utf-8', ...auth }, good, true],
      ['a body with a byte-order mark', { ...json, ...auth }, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good)]), true],
      ['broken JSON', { ...json, ...auth }, '{"streamId":', true],
      ['JSON that is not an object', { ...json, ...auth }, '"order"', true],
      ['an empty body', { ...json, ...auth }, '', true],
      ['an unknown field', { ...json, ...auth }, JSON.stringify({ streamId: w.stream.id, productId: w.product.id, quantity: 1, discount: 5 }), true],
      ['no token', json, good, true],
      ['a host\'s token', { ...json, Authorization: `Bearer ${w.host.token}` }, good, true],
      ['text/plain', { 'Content-Type': 'text/plain', ...auth }, good, false],
      ['a body over the limit', { ...json, ...auth }, JSON.stringify({ streamId: w.stream.id, productId: w.product.id, quantity: 1, pad: 'x'.repeat(20_000) }), false],
      ['another charset', { 'Content-Type': 'application/json; charset=latin1', ...auth }, good, false],
    ];
    for (const [what, given, body, taken] of cases) {
      // a viewer of its own for each case, so no case meets the open-orders cap of the ones before
      const token = given.Authorization === auth.Authorization ? (await newViewer(svc.url)).token : null;
      const headers = token ? { ...given, Authorization: `Bearer ${token}` } : given;
      const key = newKey();
      const before = lane.taken;
      const a = await send(withLane, '/api/v1/orders', { ...headers, 'Idempotency-Key': key }, body);
      expect([what, lane.taken - before]).toEqual([what, taken ? 1 : 0]);
      const b = await send(plain, '/api/v1/orders', { ...headers, 'Idempotency-Key': newKey() }, body);
      expect([what, seen(a)]).toEqual([what, seen(b)]);
      // the same key through express answers the lane's order again
      if (a.status === 201) {
        const again = await send(plain, '/api/v1/orders', { ...headers, 'Idempotency-Key': key }, body);
        expect([what, again.status, JSON.parse(again.text)]).toEqual([what, 200, JSON.parse(a.text)]);
      }
    }
    expect(lane.taken).toBeGreaterThanOrEqual(9);
  });

  it('when payment notifications (valid, badly signed, for an unknown order) go to both, then the answers are the same and a paid order is paid once', async () => {
    const viewer = await newViewer(svc.url);
    const place = (base: string) => send(base, '/api/v1/orders', { 'Content-Type': 'application/json', Authorization: `Bearer ${viewer.token}`, 'Idempotency-Key': newKey() },
      JSON.stringify({ streamId: w.stream.id, productId: w.product.id, quantity: 2 }));
    const notify = (base: string, body: object, secret = PAYMENT_SECRET) => {
      const raw = JSON.stringify(body);
      return send(base, '/api/v1/payments/notify', { 'Content-Type': 'application/json', 'Livegive-Signature': signPayment(secret, raw) }, raw);
    };
    const [o1, o2] = [JSON.parse((await place(withLane)).text), JSON.parse((await place(plain)).text)];
    const before = lane.taken;
    const paid = [await notify(withLane, { orderId: o1.id, paymentId: 'p1', amountFen: o1.totalFen, status: 'succeeded' }), await notify(plain, { orderId: o2.id, paymentId: 'p2', amountFen: o2.totalFen, status: 'succeeded' })];
    expect(paid.map((p) => [p.status, JSON.parse(p.text).status])).toEqual([[200, 'paid'], [200, 'paid']]);
    expect(seen(paid[0])).toEqual(seen(paid[1]));
    const repeat = [await notify(withLane, { orderId: o2.id, paymentId: 'p2', amountFen: o2.totalFen, status: 'succeeded' }), await notify(plain, { orderId: o1.id, paymentId: 'p1', amountFen: o1.totalFen, status: 'succeeded' })];
    expect(repeat.map((p) => p.status)).toEqual([200, 200]);
    const bad = [await notify(withLane, { orderId: o1.id, paymentId: 'p1', amountFen: o1.totalFen, status: 'succeeded' }, 'x'.repeat(32)), await notify(plain, { orderId: o1.id, paymentId: 'p1', amountFen: o1.totalFen, status: 'succeeded' }, 'x'.repeat(32))];
    expect(seen(bad[0])).toEqual(seen(bad[1]));
    expect(JSON.parse(bad[0].text).error.code).toBe('BAD_SIGNATURE');
    const unknown = [await notify(withLane, { orderId: 'o_00AAAAAAAAAAAAAAAA', paymentId: 'p9', amountFen: 100, status: 'succeeded' }), await notify(plain, { orderId: 'o_00AAAAAAAAAAAAAAAA', paymentId: 'p9', amountFen: 100, status: 'succeeded' })];
    expect(seen(unknown[0])).toEqual(seen(unknown[1]));
    expect(unknown[0].status).toBe(404);
    expect(lane.taken - before).toBe(4);
  });

  it('when a guard is added on a hot path that the lane would not run, then the app refuses to start', () => {
    const guarded: typeof slices = [...slices, { name: 'late-guard', routes(api) { api.router.post('/api/v1/orders', (_req, _res, next) => next()); } }];
    expect(() => buildApp(svc.deps, guarded)).toThrow(/hot lane: POST \/api\/v1\/orders runs a route handler the lane does not/);
    const early: typeof slices = [...slices, { name: 'late-mount', routes(api) { api.router.use((_req, _res, next) => next()); } }];
    expect(() => buildApp(svc.deps, early)).toThrow(/hot lane: POST \/api\/v1\/(orders|payments\/notify) passes a middleware the lane does not run/);
    // without the lane the same app builds: the check is about what the lane would skip
    expect(() => buildApp(svc.deps, guarded, undefined, { hotLane: false })).not.toThrow();
  });
});
