import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getIntrospectionQuery } from 'graphql';
import request from 'supertest';
import { loadConfig } from '../../src/config/app-config.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestHub, testToken, type TestHub } from '../support/hub.js';

const nested = (depth: number): string => {
  let selection = 'id';
  for (let i = 0; i < depth; i++) selection = i % 2 === 0 ? `net { scheduler { ${selection} } }` : `job { ${selection} }`;
  return `{ schedulers { ${selection} } }`;
};

describe('request limits, refused before any resolver runs', () => {
  let db: TestDatabase;
  let hub: TestHub;

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startTestHub(db.url, { netEndpoints: [{ name: 'net-1', endpoint: 'http://127.0.0.1:9' }] });
  });

  afterAll(async () => {
    await hub?.close();
    await db?.drop();
  });

  async function expectRefused(query: string, pattern: RegExp, variables?: Record<string, unknown>): Promise<void> {
    const auditBefore = (await db.pool.query('select count(*)::int as n from audit_log')).rows[0].n;
    const response = await hub.gql(query, variables);
    expect(response.status).toBe(400);
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'REQUEST_LIMIT' });
    expect(response.errors?.map((e) => e.message).join(' ')).toMatch(pattern);
    // no resolver ran: not even an audit entry for a mutation
    expect((await db.pool.query('select count(*)::int as n from audit_log')).rows[0].n).toBe(auditBefore);
  }

  it('accepts a reasonable nesting', async () => {
    const response = await hub.gql(nested(2));
    expect(response.errors).toBeUndefined();
  });

  it('refuses deep nesting', () => expectRefused(nested(6), /deeper than 8/));

  it('refuses an alias flood', () =>
    expectRefused(
      `mutation { ${Array.from({ length: 25 }, (_, i) => `a${i}: createProject(input: { name: "p${i}" }) { id }`).join(' ')} }`,
      /aliases/,
    ));

  it('refuses a field flood (through fragments), again when the same query comes back', async () => {
    const flood = `fragment F on Net { ${Array.from({ length: 50 }, () => 'id name endpoint').join(' ')} } { nets { ...F ...F ...F } }`;
    await expectRefused(flood, /more than 400 fields \(451\)/);
    await expectRefused(flood, /more than 400 fields \(451\)/); // Apollo's cached document, the kept count
  });

  it('counts the fields the variables leave in (@skip, @include)', async () => {
    const query = `query($big: Boolean!) { nets { ...F ...F @include(if: $big) ...F @skip(if: $big) ...F @include(if: $big) } }
      fragment F on Net { ${Array.from({ length: 50 }, () => 'id name endpoint').join(' ')} }`;
    expect((await hub.gql(query, { big: false })).errors).toBeUndefined(); // 1 + 2 × 150 fields
    await expectRefused(query, /more than 400 fields \(451\)/, { big: true });
  });

  it('refuses a fragment bomb without walking all of it', async () => {
    // each fragment spreads the next one twice: 2^16 fields from a few hundred bytes
    const fragments = Array.from({ length: 16 }, (_, i) => `fragment F${i} on Net { ...F${i + 1} ...F${i + 1} }`);
    await expectRefused(`{ nets { ...F0 } } ${fragments.join(' ')} fragment F16 on Net { id }`, /too large to measure/);
  });

  it("accepts GraphiQL's introspection query, which nests deep", async () => {
    const response = await hub.gql(getIntrospectionQuery());
    expect(response.errors).toBeUndefined();
    expect(response.data).toHaveProperty('__schema.types');
  });

  it('leaves bad variables and an unknown operation name to the usual BAD_USER_INPUT', async () => {
    const badVariable = await hub.gql('query($f: Int) { jobs(first: $f) { id } }', { f: 'many' });
    expect(badVariable.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(badVariable.errors?.[0].message).toMatch(/\$f/);
    const unknownOperation = await request(hub.app.getHttpServer())
      .post('/graphql')
      .set('authorization', `Bearer ${await testToken(['admin'])}`)
      .send({ query: 'query A { nets { id } }', operationName: 'B' });
    expect(unknownOperation.body.errors?.map((e: { extensions?: { code?: string } }) => e.extensions?.code)).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('refuses batched operations', async () => {
    const response = await request(hub.app.getHttpServer())
      .post('/graphql')
      .set('authorization', `Bearer ${await testToken(['admin'])}`)
      .set('content-type', 'application/json')
      .send(JSON.stringify([{ query: '{ nets { id } }' }, { query: '{ trusts { id } }' }]));
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).not.toContain('INTERNAL_SERVER_ERROR');
  });

  it('refuses an over-long id list', () =>
    hub
      .gql(
        `{ trustSlotNames(trustIds: [${Array.from({ length: 501 }, () => '"4b7c6f4e-9a2f-4c1e-8d55-3a9f0e0b1c2d"').join(',')}]) { slotName } }`,
      )
      .then((response) => expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT')));
});

describe('jobs pages', () => {
  it('returns at most `first` jobs, oldest first, continuing `after` a job; refuses a page size out of range', async () => {
    const db = await createTestDatabase();
    const hub = await startTestHub(db.url, { kitSlots: ['s1'] });
    try {
      const { createProject } = await hub.gqlOk('mutation { createProject(input: { name: "p" }) { id } }');
      const { createTrust } = await hub.gqlOk('mutation { createTrust(input: { name: "t" }) { id } }');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        // one live job per model: a model each
        const { createModel } = await hub.gqlOk(
          'mutation($p: ID!, $t: [ID!]!, $n: String!) { createModel(input: { projectId: $p, name: $n, approvedTrustIds: $t }) { id } }',
          { p: createProject.id, t: [createTrust.id], n: `m${i}` },
        );
        const { queueTraining } = await hub.gqlOk(
          'mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }',
          { m: createModel.id, t: [createTrust.id] },
        );
        ids.push(queueTraining.id);
      }
      const page1 = await hub.gqlOk('{ jobs(first: 2) { id } }');
      expect(page1.jobs.map((j: { id: string }) => j.id)).toEqual(ids.slice(0, 2));
      const page2 = await hub.gqlOk('query($a: ID) { jobs(first: 2, after: $a) { id } }', { a: ids[1] });
      expect(page2.jobs.map((j: { id: string }) => j.id)).toEqual(ids.slice(2, 4));
      for (const first of [0, -1, 10_001]) {
        const refused = await hub.gql('query($f: Int) { jobs(first: $f) { id } }', { f: first });
        expect(refused.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      }
    } finally {
      await hub.close();
      await db.drop();
    }
  });
});

describe('production mode', () => {
  it('refuses to start without authentication configured, and without a database URL', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://h/db' })).toThrow(/AUTH_JWT_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: 'x'.repeat(40) })).toThrow(/DATABASE_URL/);
    const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgresql://h/db', AUTH_JWT_SECRET: 'x'.repeat(40) });
    expect(config).toMatchObject({ graphqlIntrospection: false, graphiql: false });
    expect(
      loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgresql://h/db',
        AUTH_JWKS_URL: 'https://idp/jwks',
        GRAPHQL_INTROSPECTION: 'true',
      }).graphqlIntrospection,
    ).toBe(true);
  });

  it('answers introspection with BAD_USER_INPUT when it is off', async () => {
    const db = await createTestDatabase();
    const hub = await startTestHub(db.url, { graphqlIntrospection: false, graphiql: false });
    try {
      const response = await hub.gql('{ __schema { types { name } } }');
      expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      const page = await request(hub.app.getHttpServer()).get('/graphql').set('accept', 'text/html');
      expect(page.text).not.toMatch(/graphiql/i);
    } finally {
      await hub.close();
      await db.drop();
    }
  });
});
