import { createRequire } from 'node:module';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';

const require = createRequire(import.meta.url);
const ASSET_PREFIX = '/graphiql/assets/';

/** The only files served, resolved inside node_modules: no path from the request ever reaches the file system. */
const packageDir = (name: string): string => path.dirname(require.resolve(`${name}/package.json`));
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  'react.js': { file: path.join(packageDir('react'), 'umd', 'react.production.min.js'), type: 'text/javascript' },
  'react-dom.js': { file: path.join(packageDir('react-dom'), 'umd', 'react-dom.production.min.js'), type: 'text/javascript' },
  'graphiql.js': { file: path.join(packageDir('graphiql'), 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.css': { file: path.join(packageDir('graphiql'), 'graphiql.min.css'), type: 'text/css' },
};

/** Starts GraphiQL in the page; a separate script so the Content-Security-Policy needs no inline script. */
const START_SCRIPT = `(function () {
  var root = document.getElementById('graphiql');
  var endpoint = root.getAttribute('data-endpoint');
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + endpoint });
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultHeaders: root.getAttribute('data-default-headers') || '',
    defaultEditorToolsVisibility: 'headers',
    defaultQuery: '# fl-scheduler: the nets, their schedulers and the queue\\n{\\n  nets { name flBackend scheduler { status job { id } } }\\n  jobs(status: QUEUED) { id queuePosition model { name } }\\n}\\n',
    shouldPersistHeaders: true
  }));
})();
`;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(endpoint: string, defaultHeaders: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>fl-scheduler · GraphiQL</title>
  <link rel="stylesheet" href="${ASSET_PREFIX}graphiql.css">
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql" data-endpoint="${escapeHtml(endpoint)}" data-default-headers="${escapeHtml(defaultHeaders)}">Loading GraphiQL…</div>
  <script src="${ASSET_PREFIX}react.js"></script>
  <script src="${ASSET_PREFIX}react-dom.js"></script>
  <script src="${ASSET_PREFIX}graphiql.js"></script>
  <script src="${ASSET_PREFIX}start.js"></script>
</body>
</html>`;
}

export interface PlaygroundOptions {
  endpoint: string;
  /** JSON text shown in GraphiQL's header editor, e.g. a development admin token */
  defaultHeaders: () => string;
}

/**
 * GraphiQL at GET /graphql for browsers (Accept: text/html), with every asset
 * served by the hub itself — no CDN, which hospital networks often block.
 * Other requests pass through to the GraphQL server.
 */
export function playground(options: PlaygroundOptions): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path === `${ASSET_PREFIX}start.js`) {
      res.status(200).set({ 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }).send(START_SCRIPT);
      return;
    }
    if (req.path.startsWith(ASSET_PREFIX)) {
      const asset = Object.hasOwn(ASSETS, req.path.slice(ASSET_PREFIX.length))
        ? ASSETS[req.path.slice(ASSET_PREFIX.length)]
        : null;
      if (!asset) {
        res.status(404).type('text/plain').send('not found');
        return;
      }
      res.sendFile(asset.file, {
        headers: { 'content-type': `${asset.type}; charset=utf-8`, 'cache-control': 'public, max-age=86400' },
      });
      return;
    }
    const wantsPage =
      req.path === options.endpoint && req.query.query === undefined && (req.headers.accept ?? '').includes('text/html');
    if (!wantsPage) return next();
    res
      .status(200)
      .set({ 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'x-content-type-options': 'nosniff' })
      .send(page(options.endpoint, options.defaultHeaders()));
  };
}
