import request from 'supertest';
import { startService, TestService, admin, bearer } from '../helpers/app';
import { seedWorld, uscc } from '../helpers/fixtures';

describe('catalog: charities, hosts, products, streams', () => {
  let svc: TestService;
  beforeAll(async () => { svc = await startService('api'); });
  afterAll(async () => { await svc?.stop(); });

  it('when the operator registers a charity, then its token is shown once and only a hash is stored', async () => {
    const r = await request(svc.url).post('/api/v1/charities').set(admin).send({ name: '中华慈善总会', registrationNo: uscc() }).expect(201);
    expect(r.body.token).toMatch(/^lg_charity_/);
    const stored = await svc.deps.db.collection('principals').findOne({ id: r.body.id });
    expect(JSON.stringify(stored)).not.toContain(r.body.token);
  });

  it('when a charity code is not a valid 18-character code, or a non-operator registers, then nothing is created', async () => {
    const bad = await request(svc.url).post('/api/v1/charities').set(admin).send({ name: 'x', registrationNo: '123456789012345670' }).expect(422);
    expect(bad.body.error.details[0].field).toBe('body.registrationNo');
    await request(svc.url).post('/api/v1/charities').send({ name: 'x', registrationNo: uscc() }).expect(401);
    const host = (await request(svc.url).post('/api/v1/hosts').set(admin).send({ name: 'h' }).expect(201)).body;
    await request(svc.url).post('/api/v1/charities').set(bearer(host.token)).send({ name: 'x', registrationNo: uscc() }).expect(403);
    expect(await svc.deps.db.collection('charities').countDocuments({ name: 'x' })).toBe(0);
  });

  it('when a product has a float, string, negative or over-price pledge, unknown fields, or an injected id, then 422 and nothing is listed', async () => {
    const w = await seedWorld(svc.url);
    const base = { name: '土鸡蛋', origin: '贵州省黔东南州', unit: '盒', priceFen: 3000, stock: 10, pledge: { charityId: w.charity.id, perUnitFen: 100 } };
    const cases: Record<string, unknown>[] = [
      { ...base, priceFen: 30.5 }, { ...base, priceFen: '3000' }, { ...base, pledge: { ...base.pledge, perUnitFen: -1 } },
      { ...base, pledge: { ...base.pledge, perUnitFen: 3001 } }, { ...base, pledge: { ...base.pledge, perUnitFen: 1.5 } },
      { ...base, color: 'red' }, { ...base, pledge: { charityId: { $gt: '' }, perUnitFen: 100 } }, { ...base, pledge: { charityId: 'c_nope', perUnitFen: 100 } },
      { ...base, stock: 2 ** 31 * 1e3 },
    ];
    for (const body of cases) {
      const r = await request(svc.url).post('/api/v1/products').set(bearer(w.host.token)).send(body);
      expect([r.status, r.body.error?.code]).toEqual([422, 'VALIDATION_FAILED']);
    }
    expect(await svc.deps.db.collection('products').countDocuments({ hostId: w.host.id })).toBe(1);
  });

  it('when a charity is inactive, then no product can pledge to it', async () => {
    const w = await seedWorld(svc.url);
    await request(svc.url).patch(`/api/v1/charities/${w.charity.id}`).set(admin).send({ active: false }).expect(200);
    const r = await request(svc.url).post('/api/v1/products').set(bearer(w.host.token)).send({ name: 'a', origin: 'b', unit: 'c', priceFen: 100, stock: 1, pledge: { charityId: w.charity.id, perUnitFen: 1 } }).expect(409);
    expect(r.body.error.code).toBe('CHARITY_INACTIVE');
  });

  it('when another host edits or pins my product or starts my stream, then it is refused and nothing changes', async () => {
    const mine = await seedWorld(svc.url);
    const other = await seedWorld(svc.url);
    await request(svc.url).patch(`/api/v1/products/${mine.product.id}`).set(bearer(other.host.token)).send({ priceFen: 1 }).expect(404);
    await request(svc.url).put(`/api/v1/streams/${other.stream.id}/products`).set(bearer(other.host.token)).send({ productIds: [mine.product.id] }).expect(422);
    await request(svc.url).post(`/api/v1/streams/${mine.stream.id}/end`).set(bearer(other.host.token)).expect(404);
    const s = (await request(svc.url).get(`/api/v1/streams/${mine.stream.id}`).expect(200)).body;
    expect(s).toMatchObject({ status: 'live', products: [{ id: mine.product.id, priceFen: 4990, remaining: 1000, pledge: { perUnitFen: 200, charityName: mine.charity.name } }] });
  });

  it('when a host adds stock and edits the pledge, then the stream shows the new terms and the extra stock', async () => {
    const w = await seedWorld(svc.url);
    const r = await request(svc.url).patch(`/api/v1/products/${w.product.id}`).set(bearer(w.host.token)).send({ addStock: 5, pledge: { charityId: w.charity.id, perUnitFen: 300 } }).expect(200);
    expect(r.body).toMatchObject({ stock: 1005, remaining: 1005, pledge: { perUnitFen: 300 } });
    await request(svc.url).patch(`/api/v1/products/${w.product.id}`).set(bearer(w.host.token)).send({ priceFen: 100 }).expect(422);
  });

  it('when a stream is ended, then it cannot be started again', async () => {
    const w = await seedWorld(svc.url);
    await request(svc.url).post(`/api/v1/streams/${w.stream.id}/end`).set(bearer(w.host.token)).expect(200);
    expect((await request(svc.url).post(`/api/v1/streams/${w.stream.id}/start`).set(bearer(w.host.token)).expect(409)).body.error.code).toBe('INVALID_STATE');
  });
});
