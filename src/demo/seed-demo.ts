import { randomInt } from 'node:crypto';
import { usccCheckChar } from '../catalog/uscc';
import { ApiError, DemoClient } from './demo-client';

export interface DemoProduct { id: string; name: string; unit: string; priceFen: number; perUnitFen: number }
export interface DemoWorld {
  streamId: string;
  hostToken: string;
  charities: { id: string; name: string; token: string }[];
  products: DemoProduct[];
  viewers: { id: string; nickname: string; token: string }[];
  overlayUrl: string;
}

const USCC = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** A valid, random unified social credit code for a social organisation (prefix 53), so re-seeding never collides. */
function registrationNo(): string {
  let body = '53';
  while (body.length < 17) body += USCC[randomInt(USCC.length)];
  return body + usccCheckChar(body);
}

const NICKNAMES = ['张三丰', '李小龙', '王芳', '赵敏', '陈静', '刘洋', '杨柳', '黄蓉', '周杰', '吴磊', '徐静蕾', '孙丽', '马云飞', '朱明', '胡歌', '郭靖', '何炅', '高圆圆', '林青', '罗晶'];

/** Seeds a demo through the HTTP API only: two charities, a host, three products with pledges, a live stream, a matching sponsor and viewers. */
export async function seedDemo(api: DemoClient, adminToken: string, opts: { viewers?: number } = {}): Promise<DemoWorld> {
  const charity = (name: string) => api.call<{ id: string; name: string; token: string }>('POST', '/api/v1/charities', { token: adminToken, body: { name, registrationNo: registrationNo() } });
  const rural = await charity('赣州乡村振兴公益基金会');
  const kids = await charity('武汉市儿童助学慈善会');
  const host = await api.call<{ id: string; token: string }>('POST', '/api/v1/hosts', { token: adminToken, body: { name: '果园小李' } });
  const specs = [
    { name: '赣南脐橙 5 kg', origin: '江西省赣州市寻乌县', unit: '箱', priceFen: 5990, perUnitFen: 200, charityId: rural.id },
    { name: '洛川苹果 10 斤', origin: '陕西省延安市洛川县', unit: '箱', priceFen: 6800, perUnitFen: 300, charityId: rural.id },
    { name: '五常大米 5 kg', origin: '黑龙江省哈尔滨市五常市', unit: '袋', priceFen: 8900, perUnitFen: 500, charityId: kids.id },
  ];
  const products: DemoProduct[] = [];
  for (const s of specs) {
    const p = await api.call<{ id: string }>('POST', '/api/v1/products', {
      token: host.token,
      body: { name: s.name, origin: s.origin, unit: s.unit, priceFen: s.priceFen, stock: 1_000_000, buyerLimit: 10_000, pledge: { charityId: s.charityId, perUnitFen: s.perUnitFen } },
    });
    products.push({ id: p.id, name: s.name, unit: s.unit, priceFen: s.priceFen, perUnitFen: s.perUnitFen });
  }
  const stream = await api.call<{ id: string }>('POST', '/api/v1/streams', { token: host.token, body: { title: '助农直播：赣南脐橙、洛川苹果、五常大米', goalFen: 500_000 } });
  await api.call('PUT', `/api/v1/streams/${stream.id}/products`, { token: host.token, body: { productIds: products.map((p) => p.id) } });
  await api.call('POST', `/api/v1/streams/${stream.id}/start`, { token: host.token });
  await api.call('POST', '/api/v1/matches', { token: adminToken, body: { sponsorName: '爱心企业 · 1:1 配捐', streamId: stream.id, charityId: rural.id, ratioPercent: 100, capFen: 100_000 } })
    .catch((err) => { if (!(err instanceof ApiError && err.status === 404)) throw err; }); // a server without sponsor matching still demos
  const viewers = [];
  for (let i = 0; i < (opts.viewers ?? 12); i++) {
    const nickname = NICKNAMES[i % NICKNAMES.length];
    viewers.push({ ...(await api.call<{ id: string; token: string }>('POST', '/api/v1/viewers', { body: { nickname } })), nickname });
  }
  const charities = [rural, kids].map((c) => ({ id: c.id, name: c.name, token: c.token }));
  return { streamId: stream.id, hostToken: host.token, charities, products, viewers, overlayUrl: `${api.baseUrl}/overlay/${stream.id}` };
}
