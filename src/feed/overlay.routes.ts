import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';
import { DomainError } from '../infra/errors';
import type { TotalsReader } from './feed.hub';

const ID = /^[A-Za-z0-9_-]{1,64}$/;

// the page talks only to its own origin: no CDN, no fonts or scripts from elsewhere
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'";

/** The static files live next to the sources; a build (dist/) reads them from src/ as well. */
export function publicDir(): string {
  const candidates = [path.join(__dirname, 'public'), path.resolve(__dirname, '../../src/feed/public')];
  return candidates.find((d) => existsSync(path.join(d, 'overlay.html'))) ?? candidates[0];
}

/** GET /overlay/:streamId (the OBS browser source) and its script and stylesheet under /static/overlay/. */
export function mountOverlay(app: Express, read: TotalsReader): void {
  const dir = publicDir();
  const html = readFileSync(path.join(dir, 'overlay.html'));
  app.use('/static/overlay', (_req, res, next) => { res.setHeader('Content-Security-Policy', CSP); next(); }, express.static(dir, { index: false, maxAge: '5m', fallthrough: true }));
  app.get('/overlay/:streamId', async (req, res, next) => {
    try {
      const { streamId } = req.params;
      if (!ID.test(streamId)) throw new DomainError('VALIDATION_FAILED', 'invalid stream id', [{ field: 'params.streamId', message: 'must be an id (letters, digits, _ or -)' }]);
      if (!(await read(streamId))) throw new DomainError('NOT_FOUND', 'no such stream');
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('Content-Security-Policy', CSP);
      res.setHeader('Cache-Control', 'no-cache');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.send(html);
    } catch (err) {
      next(err);
    }
  });
}
