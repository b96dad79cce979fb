import { startService, TestService } from '../helpers/app';
import { ADMIN_TOKEN, PAYMENT_SECRET } from '../helpers/env';
import { call, rng } from '../../scripts/chaos/http-client';
import { Sale } from '../../scripts/chaos/sale';

/**
 * Issue 17's hoarding scenario: many bot accounts behind one address try to hold a flash sale's stock unpaid;
 * honest buyers from other addresses still get the rest. What stops the bots: per account, the open-order
 * cap and the per-buyer limit; per address, the order rate limit (the backstop).
 */
describe('abuse: stock hoarding by many accounts from one address', () => {
  let svc: TestService;
  let sale: Sale;
  const STOCK = 40;
  const PER_ADDRESS_PER_MINUTE = 20;

  beforeAll(async () => {
    svc = await startService('all', {
      LIVEGIVE_RATE_LIMITS: 'on', LIVEGIVE_TRUST_PROXY: 'true', LIVEGIVE_RATE_ORDERS_PER_MINUTE: String(PER_ADDRESS_PER_MINUTE),
      LIVEGIVE_RATE_SIGNUPS_PER_MINUTE: '1000', LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '3',
    });
    sale = new Sale(() => [svc.url], { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random: rng(17) });
    // 25 bot accounts and 15 honest buyers (sign-up addresses do not matter here)
    await sale.prepare({ charities: 1, products: 1, stock: STOCK, viewers: 40, buyerLimit: 5 });
  });
  afterAll(async () => { await svc?.stop(); });

  const order = (token: string, ip: string, key: string) => call<{ id: string; quantity: number; error?: { code: string } }>(svc.url, 'POST', '/api/v1/orders', {
    token, headers: { 'x-forwarded-for': ip, 'idempotency-key': key }, body: { streamId: sale.setup.streamId, productId: sale.setup.productIds[0], quantity: 1 },
  });

  it('when 25 bots behind one address grab at once, then they hold no more than the limits allow and 15 honest buyers from other addresses all get a unit', async () => {
    const bots = sale.setup.viewers.slice(0, 25);
    const honest = sale.setup.viewers.slice(25);
    // each bot tries 5 unpaid orders of one unit: 125 attempts from 203.0.113.7
    const grabs = await Promise.all(bots.flatMap((b, i) => Array.from({ length: 5 }, (_, j) => order(b.token, '203.0.113.7', `bot-${i}-${j}`).then((a) => ({ bot: b.id, a })))));
    const held = grabs.filter((g) => g.a.status === 201);
    const codes = new Set(grabs.filter((g) => g.a.status !== 201).map((g) => g.a.body.error?.code));
    expect(held.length).toBeLessThanOrEqual(PER_ADDRESS_PER_MINUTE);
    for (const b of bots) expect(held.filter((g) => g.bot === b.id).length).toBeLessThanOrEqual(3);
    expect([...codes].every((c) => c === 'RATE_LIMITED' || c === 'OPEN_ORDERS_LIMIT')).toBe(true);
    expect(codes.has('RATE_LIMITED')).toBe(true);

    const buys = await Promise.all(honest.map((h, i) => order(h.token, `198.51.100.${i + 1}`, `honest-${i}`)));
    expect(buys.map((a) => a.status)).toEqual(honest.map(() => 201));
    const stream = await call<{ products: { remaining: number }[] }>(svc.url, 'GET', `/api/v1/streams/${sale.setup.streamId}`);
    expect(stream.body.products[0].remaining).toBe(STOCK - held.length - honest.length);
  });
});
