import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from './logger';

/** Every error code a client can see, with its HTTP status: the stable part of the contract. */
export const errorStatus = {
  VALIDATION_FAILED: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  AMOUNT_MISMATCH: 422,
  REMITTANCE_EXCEEDS_UNREMITTED: 422,
  MERCHANT_MISMATCH: 422,
  BAD_BILL: 422,
  BAD_NOTIFICATION: 400,
  DECRYPTION_FAILED: 400,
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  BAD_SIGNATURE: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  OUT_OF_STOCK: 409,
  NOT_ON_SALE: 409,
  PURCHASE_LIMIT: 409,
  ORDER_NOT_PAYABLE: 409,
  ORDER_NOT_REFUNDABLE: 409,
  REFUND_EXCEEDS_REMAINING: 409,
  ORDER_NOT_CANCELLABLE: 409,
  OPEN_ORDERS_LIMIT: 409,
  CHARITY_INACTIVE: 409,
  INVALID_STATE: 409,
  AGREEMENT_OVERLAP: 409,
  AGREEMENT_SHARD: 409,
  CAP_REACHED: 409,
  CONFLICT: 409,
  REMITTANCE_ALREADY_ANSWERED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

/** Thrown by use cases; one middleware maps the code to its HTTP status. */
export class DomainError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly details?: unknown, readonly retryAfterSeconds?: number) {
    super(message);
    this.name = 'DomainError';
  }
}

/** A store that is away or moving (a Redis failover, a refused connection): the client should retry, not see a 500. */
const TRANSIENT = /Too many Cluster redirections|Connection is closed|CLUSTERDOWN|TRYAGAIN|Failed to refresh slots cache|ECONNREFUSED|MaxRetriesPerRequest|LOADING/;

export const notFoundRoute: RequestHandler = (req, _res, next) => next(new DomainError('NOT_FOUND', `no route for ${req.method} ${req.path}`));

/** Known errors keep their code; anything else is a 500 with the request id and nothing internal. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const requestId = String(req.id ?? '');
    let e: DomainError;
    if (err instanceof DomainError) e = err;
    else if (err?.type === 'entity.too.large') e = new DomainError('PAYLOAD_TOO_LARGE', 'request body is too large');
    else if (err?.type === 'entity.parse.failed') e = new DomainError('BAD_REQUEST', 'request body is not valid JSON');
    else if (err?.type === 'encoding.unsupported' || err?.type === 'charset.unsupported') e = new DomainError('UNSUPPORTED_MEDIA_TYPE', 'unsupported body encoding');
    else if (malformed(err)) {
      // anyone can send these unauthenticated: a warning with no stack, so they neither fill the logs nor trip alerts
      logger.warn({ requestId, path: safePath(req.originalUrl), reason: String(err.message).slice(0, 200) }, 'malformed request');
      e = new DomainError('BAD_REQUEST', 'malformed request (bad percent-escape in the path, or a body that does not match its headers)');
    } else if (err instanceof Error && (TRANSIENT.test(err.message) || TRANSIENT.test(err.name))) {
      logger.warn({ err: err.message, requestId, path: req.path }, 'a store is unavailable; answered 503');
      e = new DomainError('UNAVAILABLE', 'temporarily unavailable; please retry', undefined, 1);
    } else {
      logger.error({ err, requestId, path: req.path }, 'unhandled error');
      e = new DomainError('INTERNAL', `internal error (request ${requestId})`);
    }
    const status = errorStatus[e.code];
    // a refusal is never cacheable, even on a route whose answers are (public reads)
    res.removeHeader('Cache-Control');
    res.removeHeader('ETag');
    if (e.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(Math.max(1, Math.ceil(e.retryAfterSeconds))));
    if (res.headersSent) return;
    res.status(status).json({ error: { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) } });
  };
}

/** An error the HTTP layers raise for a request they cannot read (a bad percent-escape, a truncated body): its 4xx status. */
function malformed(err: unknown): boolean {
  const status = (err as { status?: unknown; statusCode?: unknown })?.status ?? (err as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
}

/** The path as received, cut short and with anything that is not printable ASCII escaped, for a log line. */
function safePath(url: string): string {
  return String(url).split('?')[0].slice(0, 200).replace(/[^\x21-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
}
