import express, { Express } from 'express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Connection } from 'mongoose';
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Deps } from './deps';
import { Api } from './infra/http';
import { requestLogger } from './infra/logger';
import { errorHandler, notFoundRoute } from './infra/errors';
import { mountOps } from './ops/ops.routes';
import { Readiness } from './ops/readiness';
import { mountPublicReads } from './infra/public-read';
import { assertLaneCovers, hotLane, type HotLane } from './infra/hot-lane';

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
export function buildApp(deps: Deps, slices: Slice[], readiness = new Readiness(deps), opts: { hotLane?: boolean } = {}): { app: Express; registry: OpenAPIRegistry; readiness: Readiness; hotLane?: HotLane } {
  const app = express();
  app.disable('x-powered-by');
  // n hops: the client is the address the n-th proxy from here appended; entries left of it are the client's own writing
  app.set('trust proxy', deps.config.http.trustProxy ? deps.config.http.trustProxyHops || true : false);
  const logRequest = requestLogger(deps.logger);
  const countRequest = (req: IncomingMessage & { route?: { path?: unknown } }, res: ServerResponse, next: () => void) => {
    const end = deps.metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const route = req.route?.path ? String(req.route.path) : 'unmatched';
      deps.metrics.httpRequests.inc({ method: req.method, route, status: res.statusCode });
      end({ method: req.method, route });
    });
    next();
  };
  app.use(logRequest);
  app.use(countRequest);
  const parseJson = express.json({
    limit: deps.config.http.bodyLimit, strict: true, type: ['application/json', 'application/*+json'],
    // signed payment notifications are verified over the exact bytes received
    verify: (req, _res, buf) => { if (req.url?.startsWith('/api/v1/payments/')) (req as typeof req & { rawBody?: Buffer }).rawBody = buf; },
  });
  app.use(parseJson);

  const registry = new OpenAPIRegistry();
  mountOps(app, deps, readiness, registry);
  mountPublicReads(app, deps);
  const api = new Api(express.Router(), registry, deps.tokens);
  for (const s of slices) s.routes?.(api, deps);
  api.refuseUndeclaredMethods();
  app.use(api.router);
  for (const s of slices) s.mount?.(app, deps);
  app.use(notFoundRoute);
  const errors = errorHandler(deps.logger);
  app.use(errors);
  if (opts.hotLane === false) return { app, registry, readiness };
  // placing and paying orders: plain JSON requests for their exact paths skip express's request setup and router
  const lane = hotLane({
    routes: api.hotRoutes(), app, before: [logRequest, countRequest], errors,
    maxBodyBytes: Math.min(16 * 1024, byteLimit(deps.config.http.bodyLimit)), paused: () => deps.state.rebuilding,
  });
  // every handler express runs for a hot POST is one the lane runs too (or is marked laneSafe), else the app refuses to start
  assertLaneCovers((app as unknown as { router: { stack: Parameters<typeof assertLaneCovers>[0] } }).router.stack, api.router as unknown as Parameters<typeof assertLaneCovers>[1],
    api.hotRoutes().keys(), new Set<unknown>([logRequest, countRequest, parseJson, notFoundRoute, errors, ...api.hotRoutes().values()]));
  const handle = (app as unknown as { handle: (req: IncomingMessage, res: ServerResponse, next?: unknown) => void }).handle.bind(app);
  (app as unknown as { handle: typeof handle }).handle = (req, res, next) => { if (!lane(req, res)) handle(req, res, next); };
  return { app, registry, readiness, hotLane: lane };
}

/** LIVEGIVE_BODY_LIMIT in bytes as express.json reads it ("100kb": 1024 per kb); 0 (the hot lane reads no body) if unsure. */
function byteLimit(limit: string): number {
  const m = /^\s*(\d+)\s*(b|kb|mb)?\s*$/i.exec(limit);
  return m ? Number(m[1]) * ({ b: 1, kb: 1024, mb: 1024 * 1024 }[(m[2] ?? 'b').toLowerCase() as 'b' | 'kb' | 'mb']) : 0;
}
