import type { Express } from 'express';
import type { Deps } from '../deps';
import { rateLimit, byAddress } from './rate-limit';
import { inFlightLimit } from './in-flight-limit';

/**
 * The public reads, by path, with their limit and cache lifetime. Limits count an address group (byAddress) and
 * sit far above what a crowd behind one address does; lifetimes are short, so a cache or browser asks again soon
 * and If-None-Match then costs a 304 (express answers it from the ETag it puts on every body).
 */
const publicReads = [
  // each look-up can cost a ledger read: the tighter limit
  { paths: ['/api/v1/public/receipts/:orderId'], limit: 'receipts', maxAgeSeconds: 5 },
  { paths: ['/api/v1/public/charities/:id', '/api/v1/public/charities/:id/*rest', '/charities/:id'], limit: 'reads', maxAgeSeconds: 5 },
  // live figures: overlays poll these (the WebSocket feed carries the changes)
  { paths: ['/api/v1/streams/:id', '/api/v1/streams/:id/totals'], limit: 'reads', maxAgeSeconds: 1 },
] as const;

/** Mounts the limit and the Cache-Control of every public read ahead of the routes that answer them. */
export function mountPublicReads(app: Express, deps: Deps): void {
  const rl = deps.config.rateLimits;
  const limiters = {
    receipts: rateLimit(deps, 'public-receipts', rl.receiptsPerMinute, 60, (req) => [byAddress(req)]),
    reads: rateLimit(deps, 'public-reads', rl.publicReadsPerMinute, 60, (req) => [byAddress(req)]),
  };
  // one pool of open public reads per address group, whichever route they ask
  const inFlight = rl.enabled ? inFlightLimit(rl.publicReadsInFlight, byAddress) : (_req: unknown, _res: unknown, next: () => void) => next();
  for (const r of publicReads) {
    app.get([...r.paths], inFlight, limiters[r.limit], (_req, res, next) => {
      // errorHandler removes it again from a refusal: only answers are cacheable
      res.setHeader('Cache-Control', `public, max-age=${r.maxAgeSeconds}`);
      next();
    });
  }
}
