import express, { type Express } from 'express';
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Deps } from '../deps';
import { errorHandler, notFoundRoute } from '../infra/errors';
import { mountOps } from './ops.routes';
import { Readiness } from './readiness';

/**
 * /healthz, /readyz and /metrics alone, for the workers role (LIVEGIVE_OPS_PORT): it has no API, but
 * Kubernetes probes it and Prometheus scrapes its consumer lag and allocator batches.
 */
export function buildOpsApp(deps: Deps): { app: Express; readiness: Readiness } {
  const app = express();
  app.disable('x-powered-by');
  const readiness = new Readiness(deps);
  mountOps(app, deps, readiness, new OpenAPIRegistry());
  // anything else answers in the service's error shape, as the api does
  app.use(notFoundRoute);
  app.use(errorHandler(deps.logger));
  return { app, readiness };
}
