import type { NextFunction, Request, Response, Router, RequestHandler } from 'express';
import { laneSafe } from './hot-lane';
import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { ZodTypeAny, ZodObject, ZodRawShape, z as Z } from 'zod';
import { DomainError } from './errors';
import { ErrorBody } from './zod';
import type { Principal, Role, TokenStore } from './auth';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type AnyObject = ZodObject<ZodRawShape>;

export interface RouteSpec<P extends AnyObject | undefined, Q extends AnyObject | undefined, B extends ZodTypeAny | undefined> {
  method: Method;
  /** express-style path, e.g. /api/v1/orders/:id */
  path: string;
  summary: string;
  tag: string;
  /** who may call: 'public' for anyone, otherwise the roles that pass authentication */
  auth: 'public' | Role[];
  params?: P;
  query?: Q;
  body?: B;
  /** extra request headers to document (and validate) */
  headers?: AnyObject;
  /** status → description and schema of the success answer (JSON unless contentType says otherwise) */
  responses: Record<number, { description: string; schema?: ZodTypeAny; contentType?: string }>;
  /** error codes this route can answer, documented as 4xx */
  errors?: number[];
  /** per-request guards run after auth, before validation (rate limits, signatures) */
  before?: RequestHandler[];
  /**
   * A hot write (placing and paying orders): a plain JSON request for its exact path is answered by the hot lane
   * (`hot-lane.ts`) without express's request setup and router walk; anything else still goes through express.
   * Only for a POST without params or query, whose guards read no more of the request than its headers, `ip`,
   * `principal` and `rawBody`.
   */
  hot?: boolean;
}

type Infer<T> = T extends ZodTypeAny ? Z.infer<T> : undefined;

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal | null;
  req: Request;
  res: Response;
}

/** A handler answers with {status, body} or writes to res itself and answers undefined. */
export type RouteResult = { status: number; body: unknown; headers?: Record<string, string> } | undefined;

/**
 * Registers an express route and its OpenAPI path from one spec, so the document is generated from the
 * same schemas that validate requests. Bodies are strict: unknown fields are refused, not stored.
 */
export class Api {
  /** the methods declared on each path, for the 405 answer (with Allow) to any other method */
  private readonly declared = new Map<string, Set<string>>();
  /** path → the same handler express runs for it, for the hot lane */
  private readonly hot = new Map<string, RequestHandler>();

  constructor(readonly router: Router, readonly registry: OpenAPIRegistry, private readonly tokens: TokenStore) {}

  /** The hot routes (POST, exact path) and their handlers: see `hot` in RouteSpec. */
  hotRoutes(): ReadonlyMap<string, RequestHandler> {
    return this.hot;
  }

  /** After every route: a known path asked with a method it does not have answers 405 METHOD_NOT_ALLOWED and Allow. */
  refuseUndeclaredMethods(): void {
    for (const [path, methods] of this.declared) {
      const allow = [...methods].map((m) => m.toUpperCase());
      if (allow.includes('GET')) allow.push('HEAD');
      const header = allow.sort().join(', ');
      // laneSafe: reached only by a method the path does not declare, and a hot path's POST is declared
      this.router.all(path, laneSafe((req: Request, res: Response, next: NextFunction) => {
        res.setHeader('Allow', header);
        next(new DomainError('METHOD_NOT_ALLOWED', `${req.method} is not allowed here (allowed: ${header})`));
      }));
    }
  }

  route<P extends AnyObject | undefined = undefined, Q extends AnyObject | undefined = undefined, B extends ZodTypeAny | undefined = undefined>(
    spec: RouteSpec<P, Q, B>,
    handler: (ctx: RouteContext<Infer<P>, Infer<Q>, Infer<B>>) => Promise<RouteResult>,
  ): void {
    this.document(spec);
    const run: RequestHandler = async (req, res, next) => {
      try {
        const principal = await this.authenticate(req, spec.auth);
        (req as Request & { principal?: Principal | null }).principal = principal;
        // guards (rate limits, signatures) run before validation, so a flood of bad requests is limited too
        for (const guard of spec.before ?? []) {
          await new Promise<void>((resolve, reject) => guard(req, res, (e?: unknown) => (e ? reject(e) : resolve())));
        }
        const params = parse(spec.params, req.params, 'params');
        const query = parse(spec.query, req.query, 'query');
        if (spec.headers) parse(spec.headers, req.headers, 'headers');
        const body = spec.body ? parse(spec.body, req.body === undefined ? {} : req.body, 'body') : undefined;
        const out = await handler({ params, query, body, principal, req, res } as RouteContext<Infer<P>, Infer<Q>, Infer<B>>);
        if (out && !res.headersSent) {
          for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
          if (spec.method === 'get') res.status(out.status).json(out.body);
          else sendJson(res, out.status, out.body);
        }
      } catch (err) {
        next(err);
      }
    };
    this.router[spec.method](spec.path, run);
    if (spec.hot) {
      if (spec.method !== 'post' || spec.params || spec.query || spec.path.includes(':')) throw new Error(`${spec.path}: only a POST without params or query can be hot`);
      this.hot.set(spec.path, run);
    }
    const methods = this.declared.get(spec.path) ?? new Set<string>();
    this.declared.set(spec.path, methods.add(spec.method));
  }

  private async authenticate(req: Request, auth: 'public' | Role[]): Promise<Principal | null> {
    const header = req.headers.authorization;
    const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const principal = token && token.length <= 200 ? await this.tokens.resolve(token) : null;
    if (auth === 'public') return principal;
    if (!principal) throw new DomainError('UNAUTHENTICATED', 'a valid bearer token is required');
    if (!auth.includes(principal.role)) throw new DomainError('FORBIDDEN', `this route is not open to a ${principal.role}`);
    return principal;
  }

  private document(spec: RouteSpec<AnyObject | undefined, AnyObject | undefined, ZodTypeAny | undefined>): void {
    const responses: RouteConfig['responses'] = {};
    for (const [status, r] of Object.entries(spec.responses)) {
      responses[status] = r.schema
        ? { description: r.description, content: { [r.contentType ?? 'application/json']: { schema: r.schema } } }
        : { description: r.description };
    }
    // 400: any request can be malformed (a bad percent-escape in its path), whatever the route
    const errs = new Set([...(spec.errors ?? []), 400, 422, 429, 500, 503]);
    if (spec.auth !== 'public') { errs.add(401); errs.add(403); }
    if (spec.body) errs.add(413).add(415);
    for (const s of errs) responses[String(s)] ??= { description: 'error', content: { 'application/json': { schema: ErrorBody } } };
    this.registry.registerPath({
      method: spec.method,
      path: spec.path.replace(/:([A-Za-z]+)/g, '{$1}'),
      summary: spec.summary,
      tags: [spec.tag],
      security: spec.auth === 'public' ? [] : [{ bearer: [] }],
      request: {
        params: spec.params,
        query: spec.query,
        headers: spec.headers,
        body: spec.body ? { content: { 'application/json': { schema: spec.body } }, required: true } : undefined,
      },
      responses,
    });
  }
}

function parse<T extends ZodTypeAny | undefined>(schema: T, value: unknown, where: string): Infer<T> {
  if (!schema) return undefined as Infer<T>;
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new DomainError('VALIDATION_FAILED', `invalid ${where}`, r.error.issues.map((i) => ({ field: [where, ...i.path].join('.'), message: i.message })));
  }
  return r.data as Infer<T>;
}

/**
 * A write's JSON answer, as express's res.json writes it (same bytes, Content-Type and Content-Length) but
 * without the ETag it hashes from every body: no client revalidates the answer to a POST (If-None-Match only
 * applies to reads), and the hash was a cost on every order and payment. Reads keep res.json and their ETag.
 */
function sendJson(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body) as string | undefined;
  if (text === undefined || status === 204 || status === 304) { res.status(status).json(body); return; }
  res.statusCode = status;
  if (!res.hasHeader('Content-Type')) res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Checks that the principal owns the thing, answering 404 where existence must not leak. */
export function requireOwner(principal: Principal | null, ownerRole: Role, ownerId: string, leak404 = false): void {
  if (principal?.role === 'operator') return;
  if (principal?.role === ownerRole && principal.id === ownerId) return;
  throw leak404 ? new DomainError('NOT_FOUND', 'not found') : new DomainError('FORBIDDEN', 'this belongs to someone else');
}
