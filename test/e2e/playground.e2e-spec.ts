import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestHub, type TestHub } from '../support/hub.js';

describe('GraphiQL served by the hub itself', () => {
  let db: TestDatabase;
  let hub: TestHub;

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startTestHub(db.url, { graphiql: true });
  });

  afterAll(async () => {
    await hub?.close();
    await db?.drop();
  });

  it('serves the page to a browser, with a CSP that allows only its own scripts', async () => {
    const page = await request(hub.app.getHttpServer()).get('/graphql').set('accept', 'text/html').expect(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.text).not.toMatch(/https?:\/\//); // nothing from a CDN
    const assets = [...page.text.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets).toHaveLength(6);
    for (const asset of assets) {
      const response = await request(hub.app.getHttpServer()).get(asset).expect(200);
      expect(response.headers['content-type']).toMatch(/text\/(javascript|css)/);
    }
  });

  it('serves nothing outside its allow-list', async () => {
    for (const path of [
      '/graphiql/assets/../package.json',
      '/graphiql/assets/%2e%2e%2fpackage.json',
      '/graphiql/assets/react.js.map',
      '/graphiql/assets/',
    ]) {
      const response = await request(hub.app.getHttpServer()).get(path);
      expect(response.status).toBe(404);
    }
  });

  it('leaves GraphQL requests to the GraphQL server', async () => {
    const response = await request(hub.app.getHttpServer())
      .get('/graphql')
      .query({ query: '{ __typename }' })
      .set('apollo-require-preflight', '1');
    expect(response.body).toEqual({ data: { __typename: 'Query' } });
  });
});
