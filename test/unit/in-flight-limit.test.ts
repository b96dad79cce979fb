import http from 'node:http';
import express from 'express';
import { inFlightLimit } from '../../src/infra/in-flight-limit';
import { errorHandler } from '../../src/infra/errors';
import { createLogger } from '../../src/infra/logger';

/** Slow requests held open together from one key are capped; other keys and later requests are not affected. */
describe('inFlightLimit', () => {
  let server: http.Server;
  let url: string;
  beforeAll(async () => {
    const app = express();
    app.get('/slow', inFlightLimit(2, (req) => String(req.headers['x-key'])), async (_req, res) => { await new Promise((r) => setTimeout(r, 300)); res.json({ ok: true }); });
    app.use(errorHandler(createLogger('silent')));
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/slow`;
  });
  afterAll(async () => { await new Promise((r) => server.close(r)); });

  const get = async (key: string) => { const r = await fetch(url, { headers: { 'x-key': key } }); return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.json() }; };

  it('when one key holds more requests open than allowed, then the extra ones are 429 RATE_LIMITED with Retry-After, and another key is served', async () => {
    const [mine, other] = await Promise.all([Promise.all(Array.from({ length: 5 }, () => get('a'))), get('b')]);
    expect(mine.map((a) => a.status).sort()).toEqual([200, 200, 429, 429, 429]);
    const refused = mine.find((a) => a.status === 429)!;
    expect([refused.body.error.code, refused.retryAfter]).toEqual(['RATE_LIMITED', '1']);
    expect(other.status).toBe(200);
  });

  it('when a client hangs up before the answer, then its slot stays taken until the handler has answered', async () => {
    const gone = new AbortController();
    const first = fetch(url, { headers: { 'x-key': 'd' }, signal: gone.signal }).catch(() => 'aborted');
    const second = get('d');
    await new Promise((r) => setTimeout(r, 50));
    gone.abort();
    expect(await first).toBe('aborted');
    // the first request's handler still runs: a new one from the same key is refused until it answers
    expect((await get('d')).status).toBe(429);
    expect((await second).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect((await get('d')).status).toBe(200);
  });

  it('when the open requests have finished, then the key is served again', async () => {
    await Promise.all(Array.from({ length: 3 }, () => get('c')));
    expect((await Promise.all([get('c'), get('c')])).map((a) => a.status)).toEqual([200, 200]);
  });
});
