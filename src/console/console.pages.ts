import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';

// same origin only; the host console frames its own overlay for the preview, nothing frames a console
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The static files live next to the sources; a build (dist/) reads them from src/ as well. */
export function consoleDir(): string {
  const candidates = [path.join(__dirname, 'public'), path.resolve(__dirname, '../../src/console/public')];
  return candidates.find((d) => existsSync(path.join(d, 'host.html'))) ?? candidates[0];
}

/** GET /console/host and /console/charity, with their scripts and stylesheet under /static/console/. */
export function mountConsoles(app: Express): void {
  const dir = consoleDir();
  const secure: express.RequestHandler = (_req, res, next) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // the page holds a token in memory: never let a shared cache or the referrer carry anything of it
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  };
  app.use('/static/console', secure, express.static(dir, { index: false, maxAge: '5m', fallthrough: true }));
  for (const page of ['host', 'charity'] as const) {
    const html = readFileSync(path.join(dir, `${page}.html`));
    app.get(`/console/${page}`, secure, (_req, res) => {
      res.setHeader('Content-Type', 'text/html; charset=utf-8');
      res.setHeader('Cache-Control', 'no-store');
      res.send(html);
    });
  }
}
