import { startService, TestService } from '../helpers/app';
import { ADMIN_TOKEN, PAYMENT_SECRET, waitFor } from '../helpers/env';
import { call, rng } from '../../scripts/chaos/http-client';
import { Sale } from '../../scripts/chaos/sale';
import { CatalogRepository } from '../../src/catalog';
import { productKeys } from '../helpers/hot-keys';

/** Deactivating a charity stops its pledges selling on every API instance at once; placed orders keep their pledge. */
describe('abuse: a deactivated charity', () => {
  let a: TestService;
  let b: TestService;
  let sale: Sale;
  let n = 0;

  beforeAll(async () => {
    a = await startService('all', { LIVEGIVE_DEFAULT_BUYER_LIMIT: '1000' });
    // a second API instance on the same stores (same namespace), as behind a balancer
    b = await startService('api', {}, a.env);
    sale = new Sale(() => [a.url], { adminToken: ADMIN_TOKEN, paymentSecret: PAYMENT_SECRET, random: rng(5), payRatio: 1, refundRatio: 0 });
    // two products: one pledging to the charity that is deactivated, one to another charity
    await sale.prepare({ charities: 2, products: 2, stock: 100, viewers: 1 });
  });
  afterAll(async () => { await b?.stop(); await a?.stop(); });

  const order = (url: string, productIndex: number) => call<{ id: string; totalFen: number; pledge: { charityId: string }; error?: { code: string } }>(url, 'POST', '/api/v1/orders', {
    token: sale.setup.viewers[0].token, headers: { 'idempotency-key': `deact-${n++}` }, body: { streamId: sale.setup.streamId, productId: sale.setup.productIds[productIndex], quantity: 1 },
  });
  const setActive = (url: string, active: boolean) => call(url, 'PATCH', `/api/v1/charities/${sale.setup.charityIds[0]}`, { token: ADMIN_TOKEN, body: { active } });

  it('when the operator deactivates a charity on one instance, then new orders pledging to it are refused on the other at once, orders placed before keep their pledge, and reactivating restores selling', async () => {
    const before = await order(b.url, 0);
    expect(before.status).toBe(201);
    expect(before.body.pledge.charityId).toBe(sale.setup.charityIds[0]);

    expect((await setActive(a.url, false)).status).toBe(200);
    const refused = await order(b.url, 0);
    expect([refused.status, refused.body.error?.code]).toEqual([409, 'NOT_ON_SALE']);
    expect((await order(a.url, 0)).status).toBe(409);
    // another charity's product keeps selling
    expect((await order(b.url, 1)).status).toBe(201);

    // the order placed before keeps its pledge: paid now, it is allocated to the deactivated charity
    expect(await sale.pay(before.body.id, before.body.totalFen)).toBe(true);
    const entry = await waitFor(async () => a.deps.db.collection('ledger').findOne({ orderId: before.body.id, kind: 'allocation' }), 'the allocation');
    expect(entry.charityId).toBe(sale.setup.charityIds[0]);

    expect((await setActive(b.url, true)).status).toBe(200);
    expect((await order(a.url, 0)).status).toBe(201);
    expect((await order(b.url, 0)).status).toBe(201);
  });

  it('when the hot copy is written again by a caller that does not know the charity state (the rebuild after Redis lost its data), then it stays off sale', async () => {
    expect((await setActive(a.url, false)).status).toBe(200);
    const key = productKeys(a.deps, sale.setup.productIds[0]).product(sale.setup.productIds[0]);
    await a.deps.redis.del(key);
    const repo = new CatalogRepository(a.deps);
    const p = (await repo.products.findOne({ _id: sale.setup.productIds[0] }))!;
    // what rebuildOrderState does for every product
    await repo.cacheProductTerms(p, 'name');
    expect(await a.deps.redis.hget(key, 'priceFen')).toBeNull();
    expect((await order(b.url, 0)).status).toBe(409);
    expect((await setActive(a.url, true)).status).toBe(200);
    expect(await a.deps.redis.hget(key, 'priceFen')).toBe(String(p.priceFen));
  });

  it('when the host edits a product of a deactivated charity, then the edit does not put it back on sale', async () => {
    expect((await setActive(a.url, false)).status).toBe(200);
    const edit = await call(b.url, 'PATCH', `/api/v1/products/${sale.setup.productIds[0]}`, { token: sale.setup.hostToken, body: { addStock: 5 } });
    expect(edit.status).toBe(200);
    expect((await order(b.url, 0)).status).toBe(409);
    expect((await setActive(a.url, true)).status).toBe(200);
    expect((await order(b.url, 0)).status).toBe(201);
  });
});
