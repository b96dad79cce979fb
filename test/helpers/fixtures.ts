import request from 'supertest';
import { usccCheckChar } from '../../src/catalog/uscc';
import { admin, bearer } from './app';

let n = 0;
/** A valid, unique unified social credit code for tests. */
export function uscc(): string {
  const body = `53110000${String(Date.now() % 1e6).padStart(6, '0')}${String(n++ % 1000).padStart(3, '0')}`;
  return body + usccCheckChar(body);
}

export interface World {
  charity: { id: string; token: string; name: string };
  host: { id: string; token: string };
  product: { id: string; priceFen: number };
  stream: { id: string };
}

/** Registers a charity and host, lists a product pledging to the charity, and starts a stream pinning it. */
export async function seedWorld(url: string, opts: { priceFen?: number; perUnitFen?: number; stock?: number; buyerLimit?: number; goalFen?: number } = {}): Promise<World> {
  const name = `希望小学基金会${n++}`;
  const charity = (await request(url).post('/api/v1/charities').set(admin).send({ name, registrationNo: uscc() }).expect(201)).body;
  const host = (await request(url).post('/api/v1/hosts').set(admin).send({ name: '县长主播' }).expect(201)).body;
  const product = (await request(url).post('/api/v1/products').set(bearer(host.token)).send({
    name: '赣南脐橙 5 kg', origin: '江西省赣州市寻乌县', unit: '箱', priceFen: opts.priceFen ?? 4990, stock: opts.stock ?? 1000,
    ...(opts.buyerLimit ? { buyerLimit: opts.buyerLimit } : {}), pledge: { charityId: charity.id, perUnitFen: opts.perUnitFen ?? 200 },
  }).expect(201)).body;
  const stream = (await request(url).post('/api/v1/streams').set(bearer(host.token)).send({ title: '助农直播', goalFen: opts.goalFen ?? 100000 }).expect(201)).body;
  await request(url).put(`/api/v1/streams/${stream.id}/products`).set(bearer(host.token)).send({ productIds: [product.id] }).expect(200);
  await request(url).post(`/api/v1/streams/${stream.id}/start`).set(bearer(host.token)).expect(200);
  return { charity: { ...charity, name }, host, product, stream };
}

export async function newViewer(url: string, nickname = '张三'): Promise<{ id: string; token: string }> {
  return (await request(url).post('/api/v1/viewers').send({ nickname }).expect(201)).body;
}
