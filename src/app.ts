import express, { Express } from 'express';
import type { Server } from 'node:http';
import type { Connection } from 'mongoose';
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Deps } from './deps';
import { Api } from './infra/http';
import { requestLogger } from './infra/logger';
import { errorHandler, notFoundRoute } from './infra/errors';
import { mountOps } from './ops/ops.routes';
import { Readiness } from './ops/readiness';
import { mountPublicReads } from './infra/public-read';

/** A slice adds its routes through the Api (validated and documented) and may mount raw handlers. */
export interface Slice {
  name: string;
  /** mongoose models this slice owns, registered on the connection before indexes are created */
  models?(conn: Connection): void;
  routes?(api: Api, deps: Deps): void;
  mount?(app: Express, deps: Deps): void;
  /** api role: things bound to the HTTP server (the WebSocket feed) */
  attach?(server: Server, deps: Deps): Promise<Stoppable> | Stoppable;
  /** api role: background loops (expiry and re-publish sweepers) */
  background?(deps: Deps): Promise<Stoppable>;
  /** workers role: Kafka consumer groups */
  workers?(deps: Deps): Promise<Stoppable>;
}

export interface Stoppable { stop(): Promise<void> }

/** The express app for the given slices, without listen(): tests run it in-process on port 0. */
export function buildApp(deps: Deps, slices: Slice[], readiness = new Readiness(deps)): { app: Express; registry: OpenAPIRegistry; readiness: Readiness } {
  const app = express();
  app.disable('x-powered-by');
  // n hops: the client is the address the n-th proxy from here appended; entries left of it are the client's own writing
  app.set('trust proxy', deps.config.http.trustProxy ? deps.config.http.trustProxyHops || true : false);
  app.use(requestLogger(deps.logger));
  app.use((req, res, next) => {
    const end = deps.metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? String(req.route.path) : 'unmatched';
      deps.metrics.httpRequests.inc({ method: req.method, route, status: res.statusCode });
      end({ method: req.method, route });
    });
    next();
  });
  app.use(express.json({
    limit: deps.config.http.bodyLimit, strict: true, type: ['application/json', 'application/*+json'],
    // signed payment notifications are verified over the exact bytes received
    verify: (req, _res, buf) => { if (req.url?.startsWith('/api/v1/payments/')) (req as typeof req & { rawBody?: Buffer }).rawBody = buf; },
  }));

  const registry = new OpenAPIRegistry();
  mountOps(app, deps, readiness, registry);
  mountPublicReads(app, deps);
  const api = new Api(express.Router(), registry, deps.tokens);
  for (const s of slices) s.routes?.(api, deps);
  api.refuseUndeclaredMethods();
  app.use(api.router);
  for (const s of slices) s.mount?.(app, deps);
  app.use(notFoundRoute);
  app.use(errorHandler(deps.logger));
  return { app, registry, readiness };
}
