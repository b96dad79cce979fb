import type { Express } from 'express';
import { OpenApiGeneratorV3, OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Deps } from '../deps';
import type { Readiness } from './readiness';

/** /healthz, /readyz, /metrics and the OpenAPI document generated from the route schemas. */
export function mountOps(app: Express, deps: Deps, readiness: Readiness, registry: OpenAPIRegistry): void {
  app.get('/healthz', (_req, res) => { res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }); });
  app.get('/readyz', async (_req, res) => {
    const r = await readiness.check();
    res.status(r.ready ? 200 : 503).json({ status: r.ready ? 'ready' : 'unavailable', ...r });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.metrics.registry.contentType);
    deps.metrics.redisRebuilding.set(deps.state.rebuilding ? 1 : 0);
    res.send(await deps.metrics.registry.metrics());
  });
  let doc: unknown;
  app.get('/api/v1/openapi.json', (_req, res) => {
    doc ??= openApiDocument(registry);
    res.json(doc);
  });
}

export function openApiDocument(registry: OpenAPIRegistry) {
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: { title: 'livegive', version: '1.0.0', description: 'Charity live commerce: orders, pledges, a hash-chained donation ledger, live totals and statements. Amounts are integer fen.' },
    servers: [{ url: '/' }],
  });
}
