import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';

const require = createRequire(import.meta.url);
export const ASSET_PREFIX = '/graphiql/assets/';

/** Starts GraphiQL in the page; a served file, so the Content-Security-Policy needs no inline script. */
const START_SCRIPT = `(function () {
  var root = document.getElementById('graphiql');
  var endpoint = root.getAttribute('data-endpoint');
  var wsOrigin = (window.location.protocol === 'https:' ? 'wss://' : 'ws://') + window.location.host;
  // subscriptions go over graphql-ws; GraphiQL sends the header editor's headers as connection_init params
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + endpoint, subscriptionUrl: wsOrigin + endpoint });
  ReactDOM.createRoot(root).render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultHeaders: root.getAttribute('data-default-headers') || '',
    defaultEditorToolsVisibility: 'headers',
    defaultQuery: '# fl-scheduler: the nets, their schedulers and the queue\\n{\\n  nets { name flBackend scheduler { status job { id } } }\\n  jobs(status: QUEUED) { id queuePosition model { name } }\\n}\\n',
    shouldPersistHeaders: true
  }));
})();
`;

const PAGE_CSS = 'html, body, #graphiql { height: 100%; margin: 0; }\n';

interface Asset {
  type: string;
  /** changes whenever the content does: appended to the URL, so the asset can be cached for good */
  version: string;
  body: () => Buffer | string;
}

function packageFile(name: string, file: string, type: string): Asset {
  const dir = path.dirname(require.resolve(`${name}/package.json`));
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  let body: Buffer | undefined;
  return { type, version, body: () => (body ??= readFileSync(path.join(dir, file))) };
}

function generated(text: string, type: string): Asset {
  return { type, version: createHash('sha256').update(text).digest('hex').slice(0, 12), body: () => text };
}

/** The only files served, resolved inside node_modules: no path from the request ever reaches the file system. */
const ASSETS: Readonly<Record<string, Asset>> = {
  'react.js': packageFile('react', 'umd/react.production.min.js', 'text/javascript'),
  'react-dom.js': packageFile('react-dom', 'umd/react-dom.production.min.js', 'text/javascript'),
  'graphiql.js': packageFile('graphiql', 'graphiql.min.js', 'text/javascript'),
  'graphiql.css': packageFile('graphiql', 'graphiql.min.css', 'text/css'),
  'page.css': generated(PAGE_CSS, 'text/css'),
  'start.js': generated(START_SCRIPT, 'text/javascript'),
};

/**
 * Scripts and style sheets only from the hub. Styles also allow 'unsafe-inline'
 * because GraphiQL's dialogs (Radix, via react-style-singleton) insert a <style>
 * element whose nonce the UMD bundle offers no way to set; styles cannot run code.
 */
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

const assetUrl = (name: string): string => `${ASSET_PREFIX}${name}?v=${ASSETS[name]?.version ?? ''}`;

function page(endpoint: string, defaultHeaders: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>fl-scheduler · GraphiQL</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="${assetUrl('graphiql.css')}">
  <link rel="stylesheet" href="${assetUrl('page.css')}">
</head>
<body>
  <div id="graphiql" data-endpoint="${escapeHtml(endpoint)}" data-default-headers="${escapeHtml(defaultHeaders)}">Loading GraphiQL…</div>
  <script src="${assetUrl('react.js')}"></script>
  <script src="${assetUrl('react-dom.js')}"></script>
  <script src="${assetUrl('graphiql.js')}"></script>
  <script src="${assetUrl('start.js')}"></script>
</body>
</html>`;
}

export const DEFAULT_HEADERS_HINT = '{\n  "Authorization": "Bearer <token>"\n}';

export interface PlaygroundOptions {
  /** path of the GraphQL endpoint; the page is served there and GraphiQL posts to it */
  endpoint: string;
  /** JSON text shown in GraphiQL's header editor, e.g. a development admin token; a function is read per page view */
  defaultHeaders?: string | (() => string);
}

/**
 * Express middleware: GraphiQL at GET <endpoint> for browsers (Accept: text/html,
 * no ?query=), and its assets at /graphiql/assets/<name> — every file served by
 * the hub itself, no CDN, which hospital networks often block. Every other
 * request goes on to next(), i.e. the GraphQL server. Mount with app.use() before
 * the GraphQL server's route (in Nest: before app.init()).
 */
export function playground(options: PlaygroundOptions): (req: Request, res: Response, next: NextFunction) => void {
  const headersText = (): string =>
    typeof options.defaultHeaders === 'function' ? options.defaultHeaders() : (options.defaultHeaders ?? DEFAULT_HEADERS_HINT);
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path.startsWith(ASSET_PREFIX)) {
      const name = req.path.slice(ASSET_PREFIX.length);
      const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
      if (!asset) {
        res.status(404).type('text/plain').send('not found');
        return;
      }
      const current = req.query.v === asset.version;
      res
        .status(200)
        .set({
          'content-type': `${asset.type}; charset=utf-8`,
          'cache-control': current ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
          'x-content-type-options': 'nosniff',
        })
        .send(asset.body());
      return;
    }
    const wantsPage =
      req.path === options.endpoint && req.query.query === undefined && (req.headers.accept ?? '').includes('text/html');
    if (!wantsPage) return next();
    res
      .status(200)
      .set({
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
        vary: 'Accept',
      })
      .send(page(options.endpoint, headersText()));
  };
}
