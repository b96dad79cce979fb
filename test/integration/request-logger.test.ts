import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { requestLogger } from '../../src/infra/logger';

/** The request log that replaced pino-http: same line, same levels, the request id a client or balancer can follow. */
describe('request logger', () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).trim().split('\n')) lines.push(JSON.parse(l)); cb(); } });
  const app = express();
  app.use(requestLogger(pino({ level: 'info' }, sink)));
  app.get('/ok', (_req, res) => { res.json({}); });
  app.get('/missing', (_req, res) => { res.status(404).json({}); });
  app.get('/boom', (_req, res) => { res.status(500).json({}); });
  app.get('/healthz', (_req, res) => { res.status(500).json({}); });
  const flush = () => new Promise((r) => setTimeout(r, 20));
  beforeEach(() => { lines.length = 0; });

  it('when a request carries a well-formed X-Request-Id, then the answer and the log line carry the same id', async () => {
    const r = await request(app).get('/missing').set('X-Request-Id', 'lb-4f2a_9');
    await flush();
    expect(r.headers['x-request-id']).toBe('lb-4f2a_9');
    expect(lines).toEqual([expect.objectContaining({ level: 30, msg: 'request completed', req: { id: 'lb-4f2a_9', method: 'GET', url: '/missing' }, res: { statusCode: 404 } })]);
  });

  it('when the X-Request-Id is malformed or absent, then a fresh UUID is used instead', async () => {
    const bad = await request(app).get('/ok').set('X-Request-Id', 'no spaces; or="quotes"');
    const none = await request(app).get('/ok');
    for (const r of [bad, none]) expect(r.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(bad.headers['x-request-id']).not.toBe(none.headers['x-request-id']);
  });

  it('when the level is info, then 2xx answers are not logged, 4xx are at info, 5xx at error, and health checks never', async () => {
    await request(app).get('/ok?token=secret');
    await request(app).get('/boom?x=1');
    await request(app).get('/healthz');
    await flush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, req: { url: '/boom' }, res: { statusCode: 500 } });
    expect(typeof lines[0].responseTime).toBe('number');
  });
});
