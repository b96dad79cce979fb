import type { Request, RequestHandler } from 'express';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Deps } from '../deps';
import { DomainError } from './errors';
import { addressGroup } from './address-group';

/**
 * A Redis-backed limiter shared by every API instance: `points` requests per `durationSeconds` for each
 * key the request maps to (token, address). Over it: 429 RATE_LIMITED with Retry-After.
 */
export function rateLimit(deps: Deps, name: string, points: number, durationSeconds: number, keyOf: (req: Request) => string[]): RequestHandler {
  if (!deps.config.rateLimits.enabled) return (_req, _res, next) => next();
  const limiter = new RateLimiterRedis({ storeClient: deps.redis, keyPrefix: deps.key('rl', name), points, duration: durationSeconds, useRedisPackage: false });
  return async (req, _res, next) => {
    try {
      for (const k of keyOf(req)) await limiter.consume(k);
      next();
    } catch (e) {
      if (e instanceof RateLimiterRes) next(new DomainError('RATE_LIMITED', `too many requests (${name})`, undefined, e.msBeforeNext / 1000));
      else next(new DomainError('UNAVAILABLE', 'rate limiter unavailable', undefined, 1));
    }
  };
}

/** The client's address group (IPv4 /32, IPv6 /64): one subscriber's many IPv6 addresses count as one. */
export const byAddress = (req: Request) => `ip:${addressGroup(req.ip)}`;
export const byPrincipal = (req: Request) => {
  const p = (req as Request & { principal?: { role: string; id: string } | null }).principal;
  return p ? `${p.role}:${p.id}` : byAddress(req);
};
