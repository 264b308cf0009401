import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ASSET_PREFIX, DEFAULT_HEADERS_HINT, playground } from './playground.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request: unlike fetch(), keeps paths such as /a/../b as they are written. */
function request(port: number, path: string, init: { method?: string; accept?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: init.method ?? 'GET', headers: init.accept ? { accept: init.accept } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('playground', () => {
  let server: http.Server;
  let port: number;

  beforeAll(async () => {
    const app = express();
    app.use(playground({ endpoint: '/graphql', defaultHeaders: () => '{"Authorization": "Bearer dev-\\"token\\""}' }));
    // stands in for the GraphQL server: anything that reaches it was passed through
    app.use((req, res) => {
      res.status(299).json({ passedThrough: req.method + ' ' + req.originalUrl });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  });

  it('serves the GraphiQL page to a browser, with a strict Content-Security-Policy', async () => {
    const page = await request(port, '/graphql', { accept: BROWSER_ACCEPT });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = page.headers['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(page.headers['vary']).toMatch(/Accept/i);
    expect(page.body).toContain('id="graphiql"');
    expect(page.body).toContain('data-endpoint="/graphql"');
    // the header text is escaped into an attribute, never raw HTML
    expect(page.body).toContain('data-default-headers="{&#34;Authorization&#34;: &#34;Bearer dev-\\&#34;token\\&#34;&#34;}"');
    // no inline script, nothing from another origin
    expect(page.body).not.toMatch(/<script>|<script [^>]*>[^<]/);
    expect(page.body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('serves every asset the page refers to, as JavaScript or CSS, cacheable for good', async () => {
    const page = await request(port, '/graphql', { accept: BROWSER_ACCEPT });
    const urls = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)]
      .map((match) => match[1] ?? '')
      .filter((url) => url !== 'data:,');
    expect(urls.length).toBe(6);
    for (const url of urls) {
      expect(url.startsWith(ASSET_PREFIX)).toBe(true);
      const asset = await request(port, url);
      expect({ url, status: asset.status }).toEqual({ url, status: 200 });
      const type = asset.headers['content-type'] ?? '';
      expect(type).toMatch(url.includes('.css?') ? /^text\/css;/ : /^text\/javascript;/);
      expect(asset.headers['cache-control']).toContain('immutable');
      expect(asset.body.length).toBeGreaterThan(30);
    }
    const graphiql = await request(port, urls.find((url) => url.includes('graphiql.js')) ?? '');
    expect(graphiql.body.length).toBeGreaterThan(500_000);
  });

  it('uses a placeholder Authorization header when none is given', async () => {
    const app = express();
    app.use(playground({ endpoint: '/api' }));
    const other = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => other.once('listening', resolve));
    try {
      const page = await request((other.address() as AddressInfo).port, '/api', { accept: 'text/html' });
      expect(page.status).toBe(200);
      expect(DEFAULT_HEADERS_HINT).toContain('Bearer <token>');
      expect(page.body).toContain('Bearer &#60;token&#62;');
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });

  it.each([
    ['a JSON GET query', '/graphql?query=%7B__typename%7D', 'GET', 'application/json'],
    ['a GET query from a browser', '/graphql?query=%7B__typename%7D', 'GET', BROWSER_ACCEPT],
    ['a GET without Accept', '/graphql', 'GET', undefined],
    ['a POST', '/graphql', 'POST', BROWSER_ACCEPT],
    ['another path', '/health', 'GET', BROWSER_ACCEPT],
  ])('passes %s through to the next handler', async (_name, path, method, accept) => {
    const answer = await request(port, path, { method, accept });
    expect(answer.status).toBe(299);
    expect(JSON.parse(answer.body)).toEqual({ passedThrough: `${method} ${path}` });
  });

  it.each([
    '/graphiql/assets/../../package.json',
    '/graphiql/assets/..%2F..%2Fpackage.json',
    '/graphiql/assets/%2e%2e/%2e%2e/package.json',
    '/graphiql/assets/graphiql.min.js',
    '/graphiql/assets/react.js/../../../../etc/passwd',
    '/graphiql/assets/__proto__',
    '/graphiql/assets/constructor',
    '/graphiql/assets/',
  ])('answers 404 to %s', async (path) => {
    const answer = await request(port, path);
    expect(answer.status).toBe(404);
    expect(answer.body).toBe('not found');
  });
});
