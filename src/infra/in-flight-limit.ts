import type { Request, RequestHandler } from 'express';
import { DomainError } from './errors';

/** How long a slot stays taken after the client went away, at most, if the handler never answers. */
const ABANDONED_SLOT_MS = 30_000;

/**
 * At most `max` requests at once per key (an address group) in this process; over it, 429 RATE_LIMITED with
 * Retry-After: 1. A rate per minute does not stop a few slow requests held open together (16 concurrent receipt
 * look-ups that each scan the store); this does. A slot is given back when the handler answers, not when the client
 * hangs up: a client that times out and asks again must not start a second scan while the first still runs.
 */
export function inFlightLimit(max: number, keyOf: (req: Request) => string): RequestHandler {
  const open = new Map<string, number>();
  return (req, res, next) => {
    const key = keyOf(req);
    const n = open.get(key) ?? 0;
    if (n >= max) return next(new DomainError('RATE_LIMITED', `too many requests at once from this address (at most ${max})`, undefined, 1));
    open.set(key, n + 1);
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key); else open.set(key, left);
    };
    const end = res.end.bind(res) as (...a: unknown[]) => typeof res;
    res.end = ((...args: unknown[]) => { release(); return end(...args); }) as typeof res.end;
    res.once('close', () => { if (held) setTimeout(release, ABANDONED_SLOT_MS).unref(); });
    next();
  };
}
