import { startService, TestService } from '../helpers/app';
import { seedWorld, newViewer } from '../helpers/fixtures';
import { describeCluster, clusterNodes } from '../helpers/redis-cluster';
import request from 'supertest';
import { bearer } from '../helpers/app';

/** Rate limits on a cluster: counted in Redis per account first, then per address, shared by every API instance. */
describeCluster('rate limits on a Redis Cluster', () => {
  let a: TestService;
  let b: TestService;
  beforeAll(async () => {
    a = await startService('api', { REDIS_CLUSTER_NODES: clusterNodes, LIVEGIVE_RATE_LIMITS: 'on', LIVEGIVE_TRUST_PROXY: 'true', LIVEGIVE_RATE_ORDERS_PER_MINUTE: '4', LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '100' });
    b = await startService('api', {}, a.env);
  });
  afterAll(async () => { await Promise.all([a?.stop(), b?.stop()]); });

  it('when one account orders through two instances, then the fifth order in a minute is 429 on either; another account from another address is not slowed', async () => {
    const w = await seedWorld(a.url, { stock: 100, buyerLimit: 50 });
    const v = await newViewer(a.url);
    const body = { streamId: w.stream.id, productId: w.product.id, quantity: 1 };
    const send = (url: string, token: string, ip: string, i: number) => request(url).post('/api/v1/orders').set(bearer(token)).set('x-forwarded-for', ip).set('idempotency-key', `rl-${token.slice(-6)}-${i}`).send(body);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push((await send(i % 2 ? b.url : a.url, v.token, `10.9.0.${i + 1}`, i)).status);
    expect(answers).toEqual([201, 201, 201, 201, 429, 429]);
    const other = await newViewer(a.url);
    expect((await send(b.url, other.token, '10.9.1.1', 0)).status).toBe(201);
  });
});
