import request from 'supertest';
import { startService, TestService } from '../helpers/app';
import { PrivateRedis } from '../helpers/redis-server';
import { waitFor } from '../helpers/env';

describe('operations endpoints', () => {
  let redis: PrivateRedis;
  let svc: TestService;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    svc = await startService('api', { REDIS_URL: redis.url });
  });
  afterAll(async () => { await svc?.stop(); await redis?.down(); });

  it('when everything is up, then /healthz and /readyz answer 200 and /metrics is Prometheus text', async () => {
    await request(svc.url).get('/healthz').expect(200);
    const ready = await request(svc.url).get('/readyz').expect(200);
    expect(ready.body.checks).toEqual({ kafka: 'ok', mongo: 'ok', redis: 'ok' });
    const m = await request(svc.url).get('/metrics').expect(200);
    expect(m.text).toMatch(/# TYPE livegive_http_requests_total counter/);
  });

  it('when a known path is asked with a method it does not have, then 405 METHOD_NOT_ALLOWED names the allowed ones; an unknown path is still 404', async () => {
    const trace = await request(svc.url).trace('/api/v1/orders').expect(405);
    expect(trace.headers.allow).toBe('POST');
    const del = await request(svc.url).delete('/api/v1/streams/s_x/totals').expect(405);
    expect(del.headers.allow).toBe('GET, HEAD');
    expect(del.body.error.code).toBe('METHOD_NOT_ALLOWED');
    expect((await request(svc.url).get('/api/v1/no-such-thing').expect(404)).body.error.code).toBe('NOT_FOUND');
  });

  it('when Redis stops, then /readyz answers 503 naming redis, and 200 again once it is back without a restart', async () => {
    await redis.down();
    const down = await request(svc.url).get('/readyz').expect(503);
    expect(down.body.checks.redis).not.toBe('ok');
    expect(down.body.checks.kafka).toBe('ok');
    await request(svc.url).get('/healthz').expect(200);
    await redis.up();
    await waitFor(async () => (await request(svc.url).get('/readyz')).status === 200, 'readyz to recover', 15000, 200);
  });

  it('when a route does not exist, then the answer is 404 NOT_FOUND in the error shape', async () => {
    const r = await request(svc.url).get('/api/v1/nope').expect(404);
    expect(r.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });
});
