import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { CONSOLE_ASSET_PREFIX } from '../../src/console/console-page.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestHub, type TestHub } from '../support/hub.js';

describe('the console served by the hub itself', () => {
  let db: TestDatabase;
  let hub: TestHub;
  let devHub: TestHub;

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-console.ts'], { cwd: process.cwd(), stdio: 'pipe' });
    db = await createTestDatabase();
    hub = await startTestHub(db.url, { netEndpoints: [{ name: 'net-1', endpoint: 'http://127.0.0.1:9' }] });
    // development without auth settings: the hub makes its own token
    devHub = await startTestHub(db.url, { nodeEnv: 'development', authJwtSecret: null });
  });

  afterAll(async () => {
    await devHub?.close();
    await hub?.close();
    await db?.drop();
  });

  const get = (target: TestHub, path: string) => request(target.app.getHttpServer()).get(path);

  it('serves the page at / with a CSP that allows only the hub, and never caches it', async () => {
    const page = await get(hub, '/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-store');
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toMatch(/unsafe|https?:|\*/);
    expect(page.text).not.toMatch(/https?:\/\//); // nothing from a CDN
    expect(page.text).not.toContain('fl-dev-token'); // auth is configured: no token in the page
  });

  it('serves every asset the page names with its type, cached for good (the names carry a content hash)', async () => {
    const page = await get(hub, '/').expect(200);
    const assets = [...page.text.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.map((a) => a.split('.').pop()).sort()).toEqual(['css', 'js']);
    for (const asset of assets) {
      const response = await get(hub, asset).expect(200);
      expect(response.headers['content-type']).toMatch(asset.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
    const script = await get(
      hub,
      assets.find((a) => a.endsWith('.js'))!,
    );
    expect(script.text).not.toMatch(/(?:src|href|url)\s*[=(]\s*["']https?:\/\//); // the bundle loads nothing from elsewhere
  });

  it('serves nothing outside the build folder', async () => {
    for (const path of [
      `${CONSOLE_ASSET_PREFIX}../index.html`,
      `${CONSOLE_ASSET_PREFIX}..%2f..%2fpackage.json`,
      `${CONSOLE_ASSET_PREFIX}nope.js`,
      CONSOLE_ASSET_PREFIX,
      '/index.html',
    ]) {
      expect((await get(hub, path)).status).toBe(404);
    }
  });

  it('leaves /graphql, /health and /metrics as they were', async () => {
    expect((await hub.gqlOk('{ nets { name simulated } }')).nets).toEqual([{ name: 'net-1', simulated: false }]);
    expect((await get(hub, '/health')).headers['content-type']).toMatch(/json/);
    expect((await get(hub, '/metrics').expect(200)).text).toContain('fl_queue_depth');
    expect((await request(hub.app.getHttpServer()).post('/').send({})).status).toBe(404);
  });

  it('signs the page in with the development token only without auth settings', async () => {
    const page = await get(devHub, '/').expect(200);
    const token = /<meta name="fl-dev-token" content="([^"]+)">/.exec(page.text)?.[1];
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const response = await request(devHub.app.getHttpServer())
      .post('/graphql')
      .set('authorization', `Bearer ${token}`)
      .send({ query: '{ trusts { id } }' });
    expect(response.body.errors).toBeUndefined();
  });
});
