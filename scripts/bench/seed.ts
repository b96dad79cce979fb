import { usccCheckChar } from '../../src/catalog/uscc';
import { BenchClient, expectStatus } from './http';

export interface SeedProduct { id: string; charityIdx: number; priceFen: number; perUnitFen: number; stock: number; role: 'regular' | 'sellout' | 'probe' }
export interface Seeded {
  charities: { id: string; name: string }[];
  hostId: string;
  streamId: string;
  products: SeedProduct[];
  match: { id: string; charityIdx: number; ratioPercent: number; capFen: number };
  buyers: { id: string; token: string }[];
  probeBuyer: { id: string; token: string };
}

export const SELLOUT_STOCK = 40;
const CHARITIES = ['武汉市慈善总会', '中国乡村发展基金会', '壹基金'];
const FRUIT = ['赣南脐橙', '秭归脐橙', '洛川苹果', '阿克苏苹果', '砀山梨', '库尔勒香梨', '宁夏枸杞', '五常大米', '定西土豆', '丹凤核桃', '临安山核桃', '平谷大桃', '攀枝花芒果', '会理石榴', '文山三七', '安溪铁观音', '普洱茶饼', '黄山毛峰'];

/** A valid unified social credit code for a charity (民政 5, 基金会 3), deterministic in n and the run id. */
export function benchUscc(n: number, salt: string): string {
  const digits = (parseInt(salt.replace(/[^0-9a-f]/g, '').slice(0, 6) || '0', 16) % 1_000_000).toString().padStart(6, '0');
  const first17 = `53420100${digits}${String(n).padStart(3, '0')}`;
  return first17 + usccCheckChar(first17);
}

/**
 * Seeds the scenario through the public HTTP API: 3 charities, a host, 20 products (18 with stock for
 * the run, one that sells out on purpose, one bought only by latency probes), a live stream with all
 * of them pinned, a capped 1:1 sponsor match and the buyers.
 */
export async function seedScenario(client: BenchClient, adminToken: string, runId: string, opts: { buyers: number; stock: number; matchCapFen: number }): Promise<Seeded> {
  const admin = { authorization: `Bearer ${adminToken}` };
  const charities = [];
  for (let i = 0; i < CHARITIES.length; i++) {
    const c = await expectStatus(client.request('POST', '/api/v1/charities', { headers: admin, body: { name: `${CHARITIES[i]} ${runId}`, registrationNo: benchUscc(i, runId) } }), 201, 'create charity');
    charities.push({ id: String(c.id), name: String(c.name) });
  }
  const host = await expectStatus(client.request('POST', '/api/v1/hosts', { headers: admin, body: { name: `bench host ${runId}` } }), 201, 'create host');
  const hostAuth = { authorization: `Bearer ${String(host.token)}` };
  const products: SeedProduct[] = [];
  for (let i = 0; i < 20; i++) {
    const role = i < 18 ? 'regular' : i === 18 ? 'sellout' : 'probe';
    const priceFen = 1990 + (i % 7) * 500;
    const perUnitFen = 100 + (i % 5) * 100;
    const stock = role === 'sellout' ? SELLOUT_STOCK : opts.stock;
    const name = role === 'regular' ? `${FRUIT[i]} ${i + 1}` : role === 'sellout' ? '限量 蜂蜜 (sells out)' : '探针 probe';
    const body = { name, origin: '湖北省恩施州', unit: '箱', priceFen, stock, buyerLimit: 10_000, pledge: { charityId: charities[i % 3].id, perUnitFen } };
    const p = await expectStatus(client.request('POST', '/api/v1/products', { headers: hostAuth, body }), 201, 'create product');
    products.push({ id: String(p.id), charityIdx: i % 3, priceFen, perUnitFen, stock, role });
  }
  const stream = await expectStatus(client.request('POST', '/api/v1/streams', { headers: hostAuth, body: { title: `bench ${runId}`, goalFen: 100_000_000 } }), 201, 'create stream');
  const streamId = String(stream.id);
  await expectStatus(client.request('PUT', `/api/v1/streams/${streamId}/products`, { headers: hostAuth, body: { productIds: products.map((p) => p.id) } }), 200, 'pin products');
  const mr = await client.request('POST', '/api/v1/matches', { headers: admin, body: { sponsorName: 'bench sponsor', streamId, charityId: charities[0].id, ratioPercent: 100, capFen: opts.matchCapFen } });
  // until the allocator slice serves matches, run without one (the report shows capFen 0)
  if (mr.status !== 201 && mr.status !== 404) throw new Error(`create match: HTTP ${mr.status || mr.code} ${JSON.stringify(mr.body).slice(0, 300)}`);
  if (mr.status === 404) console.warn('bench: POST /api/v1/matches is not served yet: running without a sponsor match');
  const m = mr.status === 201 ? (mr.body as { id: string }) : { id: '' };
  await expectStatus(client.request('POST', `/api/v1/streams/${streamId}/start`, { headers: hostAuth }), 200, 'start stream');
  const buyers = await createViewers(client, opts.buyers + 1);
  return { charities, hostId: String(host.id), streamId, products, match: { id: m.id, charityIdx: 0, ratioPercent: 100, capFen: m.id ? opts.matchCapFen : 0 }, buyers: buyers.slice(1), probeBuyer: buyers[0] };
}

async function createViewers(client: BenchClient, n: number): Promise<{ id: string; token: string }[]> {
  const out: { id: string; token: string }[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const v = await expectStatus(client.request('POST', '/api/v1/viewers', { body: { nickname: `观众${i}` } }), 201, 'create viewer');
      out[i] = { id: String(v.id), token: String(v.token) };
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return out;
}
