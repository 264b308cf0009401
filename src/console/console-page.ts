import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';

export const CONSOLE_ASSET_PREFIX = '/console/assets/';
/** the build's placeholder in index.html for the development token */
export const DEV_TOKEN_PLACEHOLDER = '<!--fl-dev-token-->';

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Only the hub's own files; 'self' covers the same-origin graphql-ws socket too. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface ConsolePageOptions {
  /** the folder `npm run build` writes: index.html and assets/ */
  dir: string;
  /** a development admin token to sign in with, read per page view; null: none */
  devToken?: () => string | null;
}

/** dist/console of this checkout, found from this file whether it runs from src/ or dist/src/ */
export function defaultConsoleDir(): string {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'console');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Express middleware: the console at GET / and its hashed assets at
 * /console/assets/<name>, every file from the build folder (no CDN: hospital
 * networks are often offline). Asset names are looked up in the folder's
 * listing, so no path from the request reaches the file system. Everything
 * else goes on to next().
 */
export function consolePage(options: ConsolePageOptions): (req: Request, res: Response, next: NextFunction) => void {
  const assetsDir = path.join(options.dir, 'assets');
  let listing: ReadonlySet<string> = new Set();
  const listAssets = (): ReadonlySet<string> => (listing = new Set(existsSync(assetsDir) ? readdirSync(assetsDir) : []));

  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path.startsWith(CONSOLE_ASSET_PREFIX)) {
      const name = req.path.slice(CONSOLE_ASSET_PREFIX.length);
      // a rebuild adds new hashed names: look again once before answering 404
      const known = listing.has(name) || listAssets().has(name);
      const type = TYPES[path.extname(name)];
      if (!known || !type) {
        res.status(404).type('text/plain').send('not found');
        return;
      }
      res
        .status(200)
        .set({
          'content-type': type,
          'cache-control': 'public, max-age=31536000, immutable',
          'x-content-type-options': 'nosniff',
        })
        .send(readFileSync(path.join(assetsDir, name)));
      return;
    }
    if (req.path !== '/') return next();
    const indexFile = path.join(options.dir, 'index.html');
    const headers = {
      'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    };
    if (!existsSync(indexFile)) {
      res.status(503).set(headers).type('text/plain').send('The console is not built: run `npm run build`.\n');
      return;
    }
    const token = options.devToken?.() ?? null;
    const devToken = token ? `<meta name="fl-dev-token" content="${escapeHtml(token)}">` : '';
    const html = readFileSync(indexFile, 'utf8').replace(DEV_TOKEN_PLACEHOLDER, devToken);
    res.status(200).set(headers).type('text/html; charset=utf-8').send(html);
  };
}
