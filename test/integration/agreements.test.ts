import request from 'supertest';
import { startService, TestService, admin, bearer } from '../helpers/app';
import { seedWorld, newViewer, uscc, World } from '../helpers/fixtures';
import { order } from '../helpers/orders';
import { readTopic } from '../helpers/kafka';
import { testEnv, waitFor } from '../helpers/env';
import { productKeys } from '../helpers/hot-keys';
import { agreementHome, idInShard, shardOf } from '../../src/infra/shards';
import { migrateLegacyPledges, parseAgreementEvent } from '../../src/agreements';
import { CatalogRepository } from '../../src/catalog';

const day = 86400_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** A proposal body with sensible terms, overridden per test. */
const terms = (charityId: string, over: Record<string, unknown> = {}) => ({
  charityId, perUnitFen: 200, onCap: 'continue_without_donation', validFrom: iso(Date.now() - day), validTo: iso(Date.now() + 30 * day), remitWithinDays: 30, ...over,
});

async function newCharity(url: string) {
  return (await request(url).post('/api/v1/charities').set(admin).send({ name: `乡村教育基金会${Math.random().toString(36).slice(2, 6)}`, registrationNo: uscc() }).expect(201)).body as { id: string; token: string };
}

function newProduct(url: string, hostToken: string, pledge: Record<string, unknown>, priceFen = 4990) {
  return request(url).post('/api/v1/products').set(bearer(hostToken)).send({ name: '赣南脐橙', origin: '江西赣州', unit: '箱', priceFen, stock: 100, pledge });
}

async function pin(url: string, w: World, productIds: string[]) {
  await request(url).put(`/api/v1/streams/${w.stream.id}/products`).set(bearer(w.host.token)).send({ productIds }).expect(200);
}

describe('pledge agreements (auto_accept, the default)', () => {
  let svc: TestService;
  let w: World;
  let other: World;
  const all = async () => (await request(svc.url).get('/api/v1/agreements').set(admin).expect(200)).body.agreements as Array<{ id: string; status: string }>;

  beforeAll(async () => {
    svc = await startService('all', { LIVEGIVE_DEFAULT_BUYER_LIMIT: '100' });
    w = await seedWorld(svc.url, { priceFen: 4990, perUnitFen: 200 });
    other = await seedWorld(svc.url);
  });
  afterAll(async () => { await svc?.stop(); });

  it('when a product is listed without an agreement, then it gets its own uncapped one accepted on the charity\'s behalf and sells', async () => {
    const p = (await request(svc.url).get(`/api/v1/products/${w.product.id}`).set(bearer(w.host.token)).expect(200)).body;
    expect(p.pledge.agreementId).toMatch(/^ag_/);
    const mine = (await request(svc.url).get('/api/v1/agreements').set(bearer(w.host.token)).expect(200)).body.agreements;
    expect(mine).toEqual([expect.objectContaining({ id: p.pledge.agreementId, status: 'accepted', migrated: true, capFen: null, capUnits: null, perUnitFen: 200, pledgedFen: 0, overdueFen: 0 })]);
    const o = (await order(svc.url, (await newViewer(svc.url)).token, { streamId: w.stream.id, productId: w.product.id, quantity: 2 }).expect(201)).body;
    expect(o.pledge).toMatchObject({ agreementId: p.pledge.agreementId, donates: true, donationFen: 400, totalFen: 400 });
    // a new product's id falls in its host and charity's shard
    expect(shardOf(w.product.id)).toBe(agreementHome(w.host.id, w.charity.id));
  });

  it('when a host proposes, then the charity sees it proposed, accepts it once, and a second accept is refused', async () => {
    const a = (await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(w.charity.id, { capFen: 100_000, onCap: 'stop_selling' })).expect(201)).body;
    expect(a).toMatchObject({ status: 'proposed', hostId: w.host.id, charityId: w.charity.id, capFen: 100_000, capUnits: null, migrated: false, productIds: null, streamIds: null });
    const theirs = (await request(svc.url).get('/api/v1/agreements?status=proposed').set(bearer(w.charity.token)).expect(200)).body.agreements;
    expect(theirs.map((x: { id: string }) => x.id)).toEqual([a.id]);
    // the host cannot accept its own proposal; another charity does not see it
    await request(svc.url).post(`/api/v1/agreements/${a.id}/accept`).set(bearer(w.host.token)).expect(403);
    expect((await request(svc.url).post(`/api/v1/agreements/${a.id}/accept`).set(bearer(other.charity.token)).expect(404)).body.error.code).toBe('NOT_FOUND');
    expect((await request(svc.url).post(`/api/v1/agreements/${a.id}/suspend`).set(bearer(w.charity.token)).expect(409)).body.error.code).toBe('INVALID_STATE');
    expect((await request(svc.url).get('/api/v1/agreements').set(bearer(other.charity.token)).expect(200)).body.agreements.map((x: { id: string }) => x.id)).not.toContain(a.id);
    const ok = (await request(svc.url).post(`/api/v1/agreements/${a.id}/accept`).set(bearer(w.charity.token)).expect(200)).body;
    expect(ok).toMatchObject({ id: a.id, status: 'accepted', acceptedAt: expect.any(String) });
    const twice = await request(svc.url).post(`/api/v1/agreements/${a.id}/accept`).set(bearer(w.charity.token)).expect(409);
    expect(twice.body.error.code).toBe('INVALID_STATE');
    expect((await request(svc.url).post(`/api/v1/agreements/${a.id}/decline`).set(bearer(w.charity.token)).expect(409)).body.error.code).toBe('INVALID_STATE');
    expect((await all()).find((x) => x.id === a.id)?.status).toBe('accepted');
    // its events are on the agreement topic, keyed by the charity
    const msgs = await readTopic(svc.deps.config.kafka.topics.agreementEvents, (m) => m.filter((x) => x.value.includes(a.id)).length >= 2);
    const parsed = msgs.filter((x) => x.value.includes(a.id)).map((x) => ({ key: x.key, r: parseAgreementEvent(x.value) }));
    const mineEvents = parsed.map(({ key, r }) => ({ key, type: r.ok ? r.event.type : r.reason }));
    expect(mineEvents).toEqual([{ key: w.charity.id, type: 'agreement.proposed' }, { key: w.charity.id, type: 'agreement.accepted' }]);
  });

  it('when a proposal is bad, then it is refused with a stable code and nothing is recorded', async () => {
    const before = (await all()).length;
    const second = await newCharity(svc.url);
    const strangers = await newProduct(svc.url, other.host.token, { charityId: w.charity.id, perUnitFen: 100 });
    const cases: Array<[Record<string, unknown>, number, string, string?]> = [
      [terms(w.charity.id, { productIds: [strangers.body.id] }), 422, 'VALIDATION_FAILED', 'body.productIds'],
      [terms(w.charity.id, { streamIds: [other.stream.id] }), 422, 'VALIDATION_FAILED', 'body.streamIds'],
      [terms('c_nosuchcharity'), 422, 'VALIDATION_FAILED', 'body.charityId'],
      [terms(w.charity.id, { perUnitFen: 4991, productIds: [w.product.id] }), 422, 'VALIDATION_FAILED', 'body.perUnitFen'],
      [terms(second.id, { productIds: [w.product.id] }), 422, 'VALIDATION_FAILED', 'body.productIds'],
      [terms(w.charity.id, { perUnitFen: 0 }), 422, 'VALIDATION_FAILED', 'body.perUnitFen'],
      [terms(w.charity.id, { capFen: 0 }), 422, 'VALIDATION_FAILED', 'body.capFen'],
      [terms(w.charity.id, { capUnits: 0 }), 422, 'VALIDATION_FAILED', 'body.capUnits'],
      [terms(w.charity.id, { validTo: iso(Date.now() - 2 * day) }), 422, 'VALIDATION_FAILED', 'body.validTo'],
      [terms(w.charity.id, { remitWithinDays: 0 }), 422, 'VALIDATION_FAILED', 'body.remitWithinDays'],
      [terms(w.charity.id, { remitWithinDays: 366 }), 422, 'VALIDATION_FAILED', 'body.remitWithinDays'],
      [terms(w.charity.id, { onCap: 'maybe' }), 422, 'VALIDATION_FAILED', 'body.onCap'],
      // the accepted agreement of the previous test covers any product and stream in this period
      [terms(w.charity.id, { streamIds: [w.stream.id] }), 409, 'AGREEMENT_OVERLAP'],
    ];
    for (const [body, status, code, field] of cases) {
      const r = await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(body);
      expect({ status: r.status, code: r.body.error?.code, field: field && r.body.error?.details?.some((d: { field: string }) => d.field === field) })
        .toEqual({ status, code, field: field ? true : undefined });
    }
    await request(svc.url).patch(`/api/v1/charities/${second.id}`).set(admin).send({ active: false }).expect(200);
    expect((await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(second.id)).expect(409)).body.error.code).toBe('CHARITY_INACTIVE');
    expect((await all()).length).toBe(before + 1); // only the stranger's product got its own (auto) agreement
  });

  it('when agreements do not intersect in products, streams or time, then both are taken; a declined one frees its terms', async () => {
    const c = await newCharity(svc.url);
    const p1 = (await newProduct(svc.url, w.host.token, { charityId: c.id, perUnitFen: 100 }).expect(201)).body;
    const p2 = (await newProduct(svc.url, w.host.token, { charityId: c.id, perUnitFen: 100 }).expect(201)).body;
    const a1 = (await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(c.id, { perUnitFen: 100, productIds: [p1.id] })).expect(201)).body;
    await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(c.id, { perUnitFen: 100, productIds: [p2.id] })).expect(201);
    await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(c.id, { perUnitFen: 100, productIds: [p1.id], validFrom: iso(Date.now() + 40 * day), validTo: iso(Date.now() + 50 * day) })).expect(201);
    expect((await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(c.id, { perUnitFen: 100, productIds: [p1.id, 'p_x'] })).expect(422)).body.error.code).toBe('VALIDATION_FAILED');
    const clash = await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(c.id, { perUnitFen: 100, productIds: [p1.id] })).expect(409);
    expect(clash.body.error).toMatchObject({ code: 'AGREEMENT_OVERLAP', details: { agreementId: a1.id } });
    await request(svc.url).post(`/api/v1/agreements/${a1.id}/decline`).set(bearer(c.token)).expect(200);
    await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(c.id, { perUnitFen: 100, productIds: [p1.id] })).expect(201);
  });

  it('when a pledge names an agreement that does not fit, then the product is refused naming the field', async () => {
    const a = (await request(svc.url).get('/api/v1/agreements?status=accepted').set(bearer(w.host.token)).expect(200)).body.agreements.find((x: { migrated: boolean }) => !x.migrated);
    const theirs = (await request(svc.url).get('/api/v1/agreements').set(bearer(other.host.token)).expect(200)).body.agreements[0];
    const c2 = await newCharity(svc.url);
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ charityId: w.charity.id, perUnitFen: 300, agreementId: a.id }, 'body.pledge.perUnitFen'],
      [{ charityId: c2.id, perUnitFen: 200, agreementId: a.id }, 'body.pledge.charityId'],
      [{ charityId: other.charity.id, perUnitFen: 200, agreementId: theirs.id }, 'body.pledge.agreementId'],
      [{ charityId: w.charity.id, perUnitFen: 200, agreementId: 'ag_nosuch' }, 'body.pledge.agreementId'],
    ];
    const count = (await svc.deps.db.collection('products').countDocuments({ hostId: w.host.id }));
    for (const [pledge, field] of cases) {
      const r = await newProduct(svc.url, w.host.token, pledge);
      expect({ status: r.status, fields: r.body.error?.details?.map((d: { field: string }) => d.field) }).toEqual({ status: 422, fields: [field] });
    }
    expect(await svc.deps.db.collection('products').countDocuments({ hostId: w.host.id })).toBe(count);
  });

  it('when an agreement is proposed, declined, suspended or expired, then its products do not sell (409 NOT_ON_SALE, agreement); placed orders keep theirs', async () => {
    const c = await newCharity(svc.url);
    const viewer = await newViewer(svc.url);
    const sell = (productId: string) => order(svc.url, viewer.token, { streamId: w.stream.id, productId, quantity: 1 });
    const refused = async (productId: string) => {
      const r = await sell(productId).expect(409);
      expect(r.body.error).toMatchObject({ code: 'NOT_ON_SALE', details: { reason: 'agreement' } });
    };
    const propose = async (over: Record<string, unknown> = {}) => (await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(c.id, { perUnitFen: 100, ...over })).expect(201)).body;
    const listed = async (agreementId: string) => (await newProduct(svc.url, w.host.token, { charityId: c.id, perUnitFen: 100, agreementId }).expect(201)).body;

    const proposed = await propose({ validTo: iso(Date.now() + 3 * day) });
    const p1 = await listed(proposed.id);
    expect(p1.pledge.agreementId).toBe(proposed.id);
    await pin(svc.url, w, [w.product.id, p1.id]);
    await refused(p1.id);
    await request(svc.url).post(`/api/v1/agreements/${proposed.id}/accept`).set(bearer(c.token)).expect(200);
    const placed = (await sell(p1.id).expect(201)).body;
    expect(placed.pledge).toMatchObject({ agreementId: proposed.id, donates: true, donationFen: 100 });

    await request(svc.url).post(`/api/v1/agreements/${proposed.id}/suspend`).set(bearer(c.token)).expect(200);
    await refused(p1.id);
    // the order placed before the suspension keeps its pledge
    expect((await request(svc.url).get(`/api/v1/orders/${placed.id}`).set(bearer(viewer.token)).expect(200)).body.pledge).toMatchObject({ agreementId: proposed.id, donationFen: 100 });

    const declined = await propose({ validFrom: iso(Date.now() + 4 * day), validTo: iso(Date.now() + 5 * day) });
    const p2 = await listed(declined.id);
    await request(svc.url).post(`/api/v1/agreements/${declined.id}/decline`).set(bearer(c.token)).expect(200);
    await pin(svc.url, w, [w.product.id, p1.id, p2.id]);
    await refused(p2.id);

    const short = await propose({ validFrom: iso(Date.now() - 1000), validTo: iso(Date.now() + 2500), streamIds: [w.stream.id] });
    const p3 = await listed(short.id);
    await request(svc.url).post(`/api/v1/agreements/${short.id}/accept`).set(bearer(c.token)).expect(200);
    await pin(svc.url, w, [w.product.id, p1.id, p2.id, p3.id]);
    await sell(p3.id).expect(201);
    await new Promise((r) => setTimeout(r, 2600));
    await refused(p3.id);

    // an agreement naming streams does not cover another stream of the host
    const later = await propose({ validFrom: iso(Date.now() + 6 * day), validTo: iso(Date.now() + 7 * day), streamIds: [w.stream.id] });
    expect(later.streamIds).toEqual([w.stream.id]);
  });

  it('when a product listed before agreements is migrated at start (twice, concurrently), then it gets exactly one agreement and keeps selling', async () => {
    const repo = new CatalogRepository(svc.deps);
    const now = new Date();
    const c = await newCharity(svc.url);
    // a product as the service listed it before agreements existed, in a shard other than its host's with either charity
    const homes = [agreementHome(w.host.id, w.charity.id), agreementHome(w.host.id, c.id)];
    const id = idInShard('p', [0, 1, 2].find((s) => !homes.includes(s))!);
    const legacy = { _id: id, hostId: w.host.id, name: '老产品', origin: '湖北', unit: '箱', priceFen: 3000, stock: 10, pledge: { charityId: w.charity.id, perUnitFen: 150 }, buyerLimit: 10, restockOnRefund: false, createdAt: now, updatedAt: now };
    await repo.products.insertOne(legacy);
    await repo.cacheProductTerms(legacy, w.charity.name);
    await repo.addStock(id, 10);
    await pin(svc.url, w, [w.product.id, id]);
    const viewer = await newViewer(svc.url);
    // not yet migrated: it sells as before, its whole pledge
    const before = (await order(svc.url, viewer.token, { streamId: w.stream.id, productId: id, quantity: 1 }).expect(201)).body;
    expect(before.pledge).toMatchObject({ agreementId: null, donates: true, donationFen: 150 });

    const [n1, n2] = await Promise.all([migrateLegacyPledges(svc.deps), migrateLegacyPledges(svc.deps)]);
    expect(n1 + n2).toBe(1);
    expect(await migrateLegacyPledges(svc.deps)).toBe(0);
    const p = await repo.products.findOne({ _id: id });
    const mine = await svc.deps.db.collection('agreements').find({ hostId: w.host.id, charityId: w.charity.id, migrated: true, validFrom: now }).toArray();
    expect(mine.map((a) => a._id)).toEqual([p!.pledge.agreementId]);
    expect(mine[0]).toMatchObject({ status: 'accepted', capFen: null, capUnits: null, remitWithinDays: 30, perUnitFen: 150 });
    expect(shardOf(mine[0]._id as unknown as string)).toBe(shardOf(id));
    expect(await svc.deps.redis.hget(productKeys(svc.deps, id).product(id), 'agreementId')).toBe(p!.pledge.agreementId);
    const after = (await order(svc.url, viewer.token, { streamId: w.stream.id, productId: id, quantity: 1 }).expect(201)).body;
    expect(after.pledge).toMatchObject({ agreementId: p!.pledge.agreementId, donationFen: 150 });

    // outside its host and charity's shard it cannot join a capped agreement, only an uncapped one
    const count = await svc.deps.db.collection('agreements').countDocuments({ hostId: w.host.id });
    const listing = await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(w.charity.id, { perUnitFen: 150, capFen: 5000, productIds: [id], validFrom: iso(Date.now() + 90 * day), validTo: iso(Date.now() + 91 * day) }));
    expect({ status: listing.status, code: listing.body.error?.code, productId: listing.body.error?.details?.productId }).toEqual({ status: 409, code: 'AGREEMENT_SHARD', productId: id });
    expect(await svc.deps.db.collection('agreements').countDocuments({ hostId: w.host.id })).toBe(count);
    const capped = (await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(c.id, { perUnitFen: 150, capUnits: 10 })).expect(201)).body;
    const moved = await request(svc.url).patch(`/api/v1/products/${id}`).set(bearer(w.host.token)).send({ pledge: { charityId: c.id, perUnitFen: 150, agreementId: capped.id } });
    expect(moved.status).toBe(409);
    expect(moved.body.error.code).toBe('AGREEMENT_SHARD');
    expect((await repo.products.findOne({ _id: id }))!.pledge.agreementId).toBe(p!.pledge.agreementId);
    await request(svc.url).post(`/api/v1/agreements/${capped.id}/decline`).set(bearer(c.token)).expect(200);
    const open = (await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(c.id, { perUnitFen: 150 })).expect(201)).body;
    await request(svc.url).post(`/api/v1/agreements/${open.id}/accept`).set(bearer(c.token)).expect(200);
    await request(svc.url).patch(`/api/v1/products/${id}`).set(bearer(w.host.token)).send({ pledge: { charityId: c.id, perUnitFen: 150, agreementId: open.id } }).expect(200);
    const joined = (await order(svc.url, viewer.token, { streamId: w.stream.id, productId: id, quantity: 1 }).expect(201)).body;
    expect(joined.pledge).toMatchObject({ charityId: c.id, agreementId: open.id, donationFen: 150 });
    // the suspension reaches the product's shard too
    await request(svc.url).post(`/api/v1/agreements/${open.id}/suspend`).set(bearer(c.token)).expect(200);
    await waitFor(async () => (await order(svc.url, viewer.token, { streamId: w.stream.id, productId: id, quantity: 1 })).status === 409, 'the suspension', 2000);
  });
});

describe('pledge agreements across API instances', () => {
  const running: TestService[] = [];
  afterAll(async () => { for (const r of running) await r.stop(); });

  it('when two API instances start together over products listed before agreements, then each product gets exactly one agreement', async () => {
    const env = testEnv();
    const first = await startService('all', {}, env);
    running.push(first);
    const w = await seedWorld(first.url);
    const repo = new CatalogRepository(first.deps);
    const now = new Date();
    const ids = [idInShard('p', 5), idInShard('p', 17), idInShard('p', 40)];
    for (const id of ids) {
      await repo.products.insertOne({ _id: id, hostId: w.host.id, name: '老产品', origin: '湖北', unit: '箱', priceFen: 3000, stock: 10, pledge: { charityId: w.charity.id, perUnitFen: 150 }, buyerLimit: 10, restockOnRefund: false, createdAt: now, updatedAt: now });
    }
    await first.stop();
    running.pop();
    running.push(...(await Promise.all([startService('api', {}, env), startService('api', {}, env)])));
    const [a, b] = running;
    const migrated = await a.deps.db.collection('agreements').find({ hostId: w.host.id, migrated: true, validFrom: now }).toArray();
    expect(migrated.length).toBe(ids.length);
    for (const id of ids) {
      const p = await new CatalogRepository(a.deps).products.findOne({ _id: id });
      expect(migrated.filter((m) => m._id as unknown as string === p!.pledge.agreementId)).toHaveLength(1);
    }

    // a suspension through one instance stops the next order through the other at once
    const c = await newCharity(a.url);
    const ag = (await request(a.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(c.id, { perUnitFen: 100, capFen: 10_000 })).expect(201)).body;
    await request(a.url).post(`/api/v1/agreements/${ag.id}/accept`).set(bearer(c.token)).expect(200);
    const p = (await newProduct(a.url, w.host.token, { charityId: c.id, perUnitFen: 100, agreementId: ag.id }).expect(201)).body;
    await pin(a.url, w, [w.product.id, p.id]);
    const viewer = await newViewer(b.url);
    await order(b.url, viewer.token, { streamId: w.stream.id, productId: p.id, quantity: 1 }).expect(201);
    await request(a.url).post(`/api/v1/agreements/${ag.id}/suspend`).set(bearer(c.token)).expect(200);
    expect((await order(b.url, viewer.token, { streamId: w.stream.id, productId: p.id, quantity: 1 }).expect(409)).body.error.details).toEqual({ reason: 'agreement' });
  }, 120_000);
});

describe('pledge agreements (LIVEGIVE_PLEDGE_WITHOUT_AGREEMENT=refuse)', () => {
  let svc: TestService;
  afterAll(async () => { await svc?.stop(); });

  it('when a product names no agreement, then it is listed but does not sell until its pledge names an accepted one', async () => {
    svc = await startService('all', { LIVEGIVE_PLEDGE_WITHOUT_AGREEMENT: 'refuse' });
    const w = await seedWorld(svc.url, { perUnitFen: 200 });
    const p = (await request(svc.url).get(`/api/v1/products/${w.product.id}`).set(bearer(w.host.token)).expect(200)).body;
    expect(p.pledge.agreementId).toBeNull();
    expect((await request(svc.url).get('/api/v1/agreements').set(bearer(w.host.token)).expect(200)).body.agreements).toEqual([]);
    const viewer = await newViewer(svc.url);
    const r = await order(svc.url, viewer.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }).expect(409);
    expect(r.body.error).toMatchObject({ code: 'NOT_ON_SALE', details: { reason: 'agreement' } });
    // a restart does not "migrate" it: it names no agreement on purpose
    expect(await migrateLegacyPledges(svc.deps)).toBe(0);
    const a = (await request(svc.url).post('/api/v1/agreements').set(bearer(w.host.token)).send(terms(w.charity.id, { productIds: [w.product.id] })).expect(201)).body;
    await request(svc.url).post(`/api/v1/agreements/${a.id}/accept`).set(bearer(w.charity.token)).expect(200);
    await request(svc.url).patch(`/api/v1/products/${w.product.id}`).set(bearer(w.host.token)).send({ pledge: { charityId: w.charity.id, perUnitFen: 200, agreementId: a.id } }).expect(200);
    const o = (await order(svc.url, viewer.token, { streamId: w.stream.id, productId: w.product.id, quantity: 1 }).expect(201)).body;
    expect(o.pledge).toMatchObject({ agreementId: a.id, donates: true, donationFen: 200 });
  });
});
