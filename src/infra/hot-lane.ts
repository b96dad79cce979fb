import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export interface HotLaneOptions {
  /** exact path → the route's handler (Api.hotRoutes()) */
  routes: ReadonlyMap<string, RequestHandler>;
  /** the express app the lane stands in front of: its trust proxy setting, and its request/response for errors */
  app: Express;
  /** what runs before the body on every request of the app (request id and log line, metrics), in that order */
  before: Middleware[];
  /** the app's error handler: a refusal answers exactly as through express */
  errors: ErrorRequestHandler;
  /** the largest body the lane reads itself (express refuses larger ones with 413) */
  maxBodyBytes: number;
  /** true while requests must go the long way (the recovery slice's guard, which only express runs) */
  paused: () => boolean;
}

const JSON_TYPE = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;
const noop = () => undefined;
// express's own req.ip (its trust proxy setting applied to X-Forwarded-For), computed the same way
const ipOf = Object.getOwnPropertyDescriptor(express.request, 'ip')!.get!;

/**
 * The hot writes (placing and paying orders) without express: express sets up every request (prototype swaps of
 * req and res, query parsing, a walk of the router's layers) and hashes every JSON answer for an ETag, which cost
 * ~80 µs of CPU per request against ~25 for Node's own HTTP server (`scripts/measure/http-lanes.ts`). A POST to a
 * hot route's exact path with a plain JSON body (Content-Type application/json in UTF-8, no Content-Encoding, a
 * Content-Length within the limit) runs the same middlewares and the same route handler here; any other request,
 * and every request while paused, goes through express as before. Answers `true` when it took the request.
 */
export function hotLane(o: HotLaneOptions): HotLane {
  const lane = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== 'POST') return false;
    const route = o.routes.get(req.url ?? '');
    if (!route || o.paused()) return false;
    const h = req.headers;
    const length = Number(h['content-length']);
    if (!JSON_TYPE.test(h['content-type'] ?? '') || h['transfer-encoding'] !== undefined || !h['content-length']
      || !Number.isSafeInteger(length) || length > o.maxBodyBytes) return false;
    if (h['content-encoding'] !== undefined && h['content-encoding'].toLowerCase() !== 'identity') return false;

    const r = req as IncomingMessage & { route?: { path: string }; ip?: string; body?: unknown; rawBody?: Buffer; originalUrl?: string };
    r.route = { path: req.url! };
    for (const mw of o.before) mw(req, res, noop);
    const fail = (err: unknown) => failed(o, req, res, err);
    readBody(req, length, (err, buf) => {
      if (err) return fail(err);
      // as express.json's verify: signed payment notifications are checked over the exact bytes received
      if (req.url!.startsWith('/api/v1/payments/')) r.rawBody = buf;
      try {
        r.body = parseJson(buf!);
      } catch (e) {
        return fail(e);
      }
      r.ip = ipOf.call({ app: o.app, headers: req.headers, connection: req.socket, socket: req.socket });
      route(r as Parameters<RequestHandler>[0], res as Parameters<RequestHandler>[1], (e?: unknown) => { if (e) fail(e); });
    });
    lane.taken++;
    return true;
  };
  lane.taken = 0;
  return lane;
}

/** Takes a request (true) or leaves it to express (false); `taken` counts the requests it took. */
export interface HotLane { (req: IncomingMessage, res: ServerResponse): boolean; taken: number }

/** A refusal: the request becomes the express request it would have been, and the app's error handler answers. */
function failed(o: HotLaneOptions, req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const r = req as IncomingMessage & { res?: ServerResponse; originalUrl?: string };
  r.res = res;
  r.originalUrl ??= req.url;
  (res as ServerResponse & { req?: IncomingMessage; locals?: object }).req = req;
  Object.setPrototypeOf(req, o.app.request);
  Object.setPrototypeOf(res, o.app.response);
  (res as ServerResponse & { locals?: object }).locals = Object.create(null);
  o.errors(err, req as Parameters<ErrorRequestHandler>[1], res as Parameters<ErrorRequestHandler>[2], noop);
}

/** The body, as raw-body reads it for body-parser: exactly Content-Length bytes, else a 400 of the same type. */
function readBody(req: IncomingMessage, length: number, done: (err: unknown, buf?: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const finish = (err: unknown, buf?: Buffer) => {
    if (finished) return;
    finished = true;
    req.off('data', onData).off('end', onEnd).off('aborted', onAborted).off('error', onError);
    if (err) req.resume();
    done(err, buf);
  };
  const onData = (c: Buffer) => {
    received += c.length;
    if (received > length) finish(httpError(400, 'request size did not match content length', 'request.size.invalid'));
    else chunks.push(c);
  };
  const onEnd = () => {
    if (received !== length) finish(httpError(400, 'request size did not match content length', 'request.size.invalid'));
    else finish(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received));
  };
  const onAborted = () => finish(httpError(400, 'request aborted', 'request.aborted'));
  const onError = (e: Error) => finish(Object.assign(e, { status: 400, statusCode: 400 }));
  req.on('data', onData).on('end', onEnd).on('aborted', onAborted).on('error', onError);
}

/** body-parser's strict JSON: an empty body is {}, anything but an object or array is refused, a BOM is dropped. */
function parseJson(buf: Buffer): unknown {
  const text = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? buf.toString('utf8', 3) : buf.toString('utf8');
  if (text.length === 0) return {};
  const first = /^[ \t\n\r]*(.)/s.exec(text)?.[1];
  if (first !== '{' && first !== '[') throw httpError(400, `Unexpected token ${first ?? 'end'} in JSON`, 'entity.parse.failed');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw httpError(400, (e as Error).message, 'entity.parse.failed');
  }
}

function httpError(status: number, message: string, type: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true, type });
}

const safe = new WeakSet<object>();
/**
 * Marks a handler that express runs on a hot path as one the lane may skip, and says why at the call: the recovery
 * guard (the lane steps aside while paused) and the 405 answer to undeclared methods (a hot path's POST is declared).
 */
export function laneSafe<T extends object>(fn: T): T {
  safe.add(fn);
  return fn;
}

interface LayerLike { match(path: string): boolean; handle: unknown; route?: { stack: { method?: string; handle: unknown }[]; _handlesMethod(m: string): boolean } }

/**
 * Refuses to start when express would run, for a POST to a hot path, a handler the lane does not run: a guard added
 * later on such a path (`api.router.post(path, …)`, an `app.use(…)` before the routes) would otherwise be skipped by
 * the lane without a word. `known`: the handlers the lane runs or stands for (the request logger, metrics, the JSON
 * parser, the routes' own handlers, the error handlers, the api router itself).
 */
export function assertLaneCovers(appStack: LayerLike[], apiRouter: { stack: LayerLike[] }, paths: Iterable<string>, known: Set<unknown>): void {
  const check = (stack: LayerLike[], path: string): void => {
    for (const layer of stack) {
      if (!layer.match(path)) continue;
      if (layer.handle === apiRouter) { check(apiRouter.stack, path); continue; }
      if (layer.route) {
        if (!layer.route._handlesMethod('post')) continue;
        for (const l of layer.route.stack) {
          if (l.method && l.method !== 'post') continue;
          if (!known.has(l.handle) && !safe.has(l.handle as object)) throw new Error(`hot lane: POST ${path} runs a route handler the lane does not (${(l.handle as { name?: string }).name || 'anonymous'}); mark it laneSafe or leave the path out of the lane`);
        }
        continue;
      }
      if (!known.has(layer.handle) && !safe.has(layer.handle as object)) throw new Error(`hot lane: POST ${path} passes a middleware the lane does not run (${(layer.handle as { name?: string }).name || 'anonymous'})`);
    }
  };
  for (const p of paths) check(appStack, p);
}
