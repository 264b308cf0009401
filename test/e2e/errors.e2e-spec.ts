import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { UNKNOWN_ID } from '../support/gql.js';
import { startTestHub, testToken, type TestHub } from '../support/hub.js';
import { snapshot, type Snapshot } from '../support/snapshot.js';

/**
 * Malformed requests of every kind: each is answered as a client error
 * (BAD_USER_INPUT, or NOT_FOUND for a well-formed id of nothing), never with
 * INTERNAL_SERVER_ERROR or an HTTP 5xx, and leaves every table as it was.
 */

/** Rows the cases point at. */
interface Seed {
  trustId: string;
  projectId: string;
  modelId: string;
  jobId: string;
}

/** What goes over the wire: a GraphQL request, any JSON body, raw bytes, or a GET. */
type Outgoing = { query: string; variables?: Record<string, unknown> } | { json: unknown } | { raw: string } | { get: string };

interface Case {
  name: string;
  request: (seed: Seed) => Outgoing;
  /** extensions.code of every error */
  code: 'BAD_USER_INPUT' | 'NOT_FOUND';
  /** the HTTP status, where it is part of the contract */
  status?: number;
}

interface ErrorBody {
  errors?: Array<{ message?: string; extensions?: { code?: string } }>;
}

const MAX_BODY_BYTES = 1024 * 1024;

const gql = (query: string, variables?: Record<string, unknown>): Outgoing => ({ query, variables });

/** The same malformed value in every ID argument of every query and mutation (the other arguments valid). */
const MALFORMED_IDS: Case[] = (
  [
    ['netByModel(modelId)', () => gql('{ netByModel(modelId: "not-a-uuid") { id } }')],
    ['flBackend(netId)', () => gql('{ flBackend(netId: "net-a") }')],
    ['job(id) given an Int literal', () => gql('{ job(id: 123) { id } }')],
    ['jobs(modelId) empty', () => gql('{ jobs(modelId: "") { id } }')],
    [
      'trustSlotNames(trustIds)',
      (s) => gql('query($ids: [ID!]!) { trustSlotNames(trustIds: $ids) { slotName } }', { ids: [s.trustId, 'x'] }),
    ],
    ['trainingDetails(modelId) with SQL in it', () => gql(`{ trainingDetails(modelId: "' or 1=1 --") { modelId } }`)],
    ['model(id) one character too long', () => gql(`{ model(id: "${UNKNOWN_ID}0") { id } }`)],
    ['job(id) holding NUL', () => gql('query($id: ID!) { job(id: $id) { id } }', { id: `${UNKNOWN_ID.slice(0, -1)}\u0000` })],
    ['job(id) without dashes', () => gql(`{ job(id: "${UNKNOWN_ID.replaceAll('-', '')}") { id } }`)],
    [
      'createModel(input.projectId)',
      (s) =>
        gql('mutation($input: CreateModelInput!) { createModel(input: $input) { id } }', {
          input: { projectId: 'p', name: 'm', approvedTrustIds: [s.trustId] },
        }),
    ],
    [
      'createModel(input.approvedTrustIds)',
      (s) =>
        gql('mutation($input: CreateModelInput!) { createModel(input: $input) { id } }', {
          input: { projectId: s.projectId, name: 'm', approvedTrustIds: ['t'] },
        }),
    ],
    [
      'createCohortQuery(input.projectId)',
      () =>
        gql('mutation($input: CreateCohortQueryInput!) { createCohortQuery(input: $input) { id } }', {
          input: { projectId: '{}', name: 'c', query: 'q' },
        }),
    ],
    ['queueTraining(modelId)', (s) => gql(`mutation { queueTraining(modelId: "model", trustIds: ["${s.trustId}"]) { id } }`)],
    [
      'queueTraining(trustIds)',
      (s) => gql(`mutation { queueTraining(modelId: "${s.modelId}", trustIds: ["${UNKNOWN_ID.slice(0, -1)}g"]) { id } }`),
    ],
    ['stopTraining(modelId)', () => gql('mutation { stopTraining(modelId: "1") { id } }')],
    ['removeJob(id)', () => gql(`mutation { removeJob(id: " ${UNKNOWN_ID}") { id } }`)],
    ['removeJobsForModel(modelId)', () => gql('mutation { removeJobsForModel(modelId: "model") }')],
    ['claimQueuedJob(schedulerId)', () => gql('mutation { claimQueuedJob(schedulerId: "scheduler") { id } }')],
    ['revertSchedulerPickup(schedulerId)', () => gql('mutation { revertSchedulerPickup(schedulerId: "null") { id } }')],
    [
      'startTraining(modelId)',
      (s) => gql(`mutation { startTraining(modelId: "m", jobId: "${s.jobId}", trustIds: ["${s.trustId}"]) { id } }`),
    ],
    [
      'startTraining(jobId)',
      (s) => gql(`mutation { startTraining(modelId: "${s.modelId}", jobId: "j", trustIds: ["${s.trustId}"]) { id } }`),
    ],
    [
      'startTraining(trustIds)',
      (s) => gql(`mutation { startTraining(modelId: "${s.modelId}", jobId: "${s.jobId}", trustIds: ["t"]) { id } }`),
    ],
    ['completeTraining(modelId)', () => gql('mutation { completeTraining(modelId: "m") { id } }')],
    [
      'updateModelApprovedTrusts(modelId)',
      (s) => gql(`mutation { updateModelApprovedTrusts(modelId: "m", trustIds: ["${s.trustId}"]) { id } }`),
    ],
    [
      'updateModelApprovedTrusts(trustIds)',
      (s) => gql(`mutation { updateModelApprovedTrusts(modelId: "${s.modelId}", trustIds: ["t"]) { id } }`),
    ],
    ['updateModelStatus(modelId)', () => gql('mutation { updateModelStatus(modelId: "m", status: RUNNING) { id } }')],
  ] as Array<[string, Case['request']]>
).map(([name, build]) => ({ name: `malformed id: ${name}`, request: build, code: 'BAD_USER_INPUT' }));

/** A well-formed id that names nothing. */
const UNKNOWN_IDS: Case[] = (
  [
    ['netByModel', () => gql(`{ netByModel(modelId: "${UNKNOWN_ID}") { id } }`)],
    ['flBackend', () => gql(`{ flBackend(netId: "${UNKNOWN_ID}") }`)],
    ['trainingDetails', () => gql(`{ trainingDetails(modelId: "${UNKNOWN_ID}") { modelId } }`)],
    [
      'createModel with an unknown project',
      (s) =>
        gql('mutation($input: CreateModelInput!) { createModel(input: $input) { id } }', {
          input: { projectId: UNKNOWN_ID, name: 'm', approvedTrustIds: [s.trustId] },
        }),
    ],
    [
      'createCohortQuery with an unknown project',
      () =>
        gql('mutation($input: CreateCohortQueryInput!) { createCohortQuery(input: $input) { id } }', {
          input: { projectId: UNKNOWN_ID, name: 'c', query: 'q' },
        }),
    ],
    ['queueTraining', (s) => gql(`mutation { queueTraining(modelId: "${UNKNOWN_ID}", trustIds: ["${s.trustId}"]) { id } }`)],
    ['stopTraining', () => gql(`mutation { stopTraining(modelId: "${UNKNOWN_ID}") { id } }`)],
    ['removeJob', () => gql(`mutation { removeJob(id: "${UNKNOWN_ID}") { id } }`)],
    ['removeJobsForModel', () => gql(`mutation { removeJobsForModel(modelId: "${UNKNOWN_ID}") }`)],
    ['claimQueuedJob', () => gql(`mutation { claimQueuedJob(schedulerId: "${UNKNOWN_ID}") { id } }`)],
    ['revertSchedulerPickup', () => gql(`mutation { revertSchedulerPickup(schedulerId: "${UNKNOWN_ID}") { id } }`)],
    [
      'startTraining',
      (s) =>
        gql(`mutation { startTraining(modelId: "${s.modelId}", jobId: "${UNKNOWN_ID}", trustIds: ["${s.trustId}"]) { id } }`),
    ],
    ['completeTraining', () => gql(`mutation { completeTraining(modelId: "${UNKNOWN_ID}") { id } }`)],
    [
      'updateModelApprovedTrusts',
      (s) => gql(`mutation { updateModelApprovedTrusts(modelId: "${UNKNOWN_ID}", trustIds: ["${s.trustId}"]) { id } }`),
    ],
    ['updateModelStatus', () => gql(`mutation { updateModelStatus(modelId: "${UNKNOWN_ID}", status: RUNNING) { id } }`)],
  ] as Array<[string, Case['request']]>
).map(([name, build]) => ({ name: `unknown id: ${name}`, request: build, code: 'NOT_FOUND' }));

const bad = (name: string, request: Case['request'], status?: number): Case => ({
  name,
  request,
  code: 'BAD_USER_INPUT',
  status,
});

const MALFORMED_REQUESTS: Case[] = [
  // wrong argument types
  bad('wrong type: Float literal for an ID', () => gql('{ job(id: 12.5) { id } }')),
  bad('wrong type: string for an enum', () => gql('{ jobs(status: "QUEUED") { id } }')),
  bad('wrong type: unknown enum value', () => gql('{ jobs(status: RUNNING) { id } }')),
  bad('wrong type: Int for a name', () => gql('mutation { createTrust(input: { name: 5 }) { id } }')),
  bad('wrong type: unknown model status', (s) =>
    gql(`mutation { updateModelStatus(modelId: "${s.modelId}", status: DONE) { id } }`),
  ),
  bad('wrong type: object variable for an ID', () => gql('query($id: ID!) { job(id: $id) { id } }', { id: { a: 1 } })),
  bad('wrong type: number variable for a String', () =>
    gql('query($name: String!) { netByName(name: $name) { id } }', { name: 12 }),
  ),
  bad('wrong type: null inside [ID!]!', (s) =>
    gql('mutation($ids: [ID!]!) { queueTraining(modelId: "' + s.modelId + '", trustIds: $ids) { id } }', { ids: [null] }),
  ),
  bad('wrong type: list for an input object', () => gql('mutation { createProject(input: ["x"]) { id } }')),
  // missing required arguments
  bad('missing argument: job(id)', () => gql('{ job { id } }')),
  bad('missing argument: netByModel(modelId)', () => gql('{ netByModel { id } }')),
  bad('missing argument: createTrust(input)', () => gql('mutation { createTrust { id } }')),
  bad('missing input field: createModel(input.projectId)', () =>
    gql('mutation { createModel(input: { name: "m", approvedTrustIds: [] }) { id } }'),
  ),
  bad('missing argument: queueTraining(trustIds)', (s) => gql(`mutation { queueTraining(modelId: "${s.modelId}") { id } }`)),
  bad('missing variable value', () => gql('query($id: ID!) { job(id: $id) { id } }')),
  // unknown fields and arguments
  bad('unknown field', () => gql('{ jobs { id bogus } }')),
  bad('unknown query', () => gql('{ bogus }')),
  bad('unknown mutation', () => gql('mutation { dropDatabase }')),
  bad('unknown argument', () => gql('{ jobs(owner: "x") { id } }')),
  bad('unknown input field', () => gql('mutation { createTrust(input: { name: "x", admin: true }) { id } }')),
  bad('selection missing on an object field', () => gql('{ jobs }')),
  // syntax errors
  bad('syntax: unclosed selection', () => gql('{ jobs { id ')),
  bad('syntax: unbalanced parentheses', () => gql('mutation { createTrust(input: { name: "x" ) { id } }')),
  bad('syntax: stray brace', () => gql('{ trusts { id } } }')),
  bad('syntax: empty query', () => gql('')),
  // request bodies that are not a GraphQL request
  bad('body: not JSON', () => ({ raw: '{bad' }), 400),
  bad('body: JSON string', () => ({ raw: '"x"' }), 400),
  bad('body: empty object', () => ({ json: {} }), 400),
  bad('body: array (batching)', () => ({ json: [] }), 400),
  bad('body: query is a number', () => ({ json: { query: 5 } }), 400),
  bad('body: variables is a string', () => ({ json: { query: '{ trusts { id } }', variables: 'x' } }), 400),
  bad('body: unknown operation name', () => ({ json: { query: 'query A { trusts { id } }', operationName: 'B' } }), 400),
  bad(
    'body: over 1 MiB',
    () => ({ json: { query: '{ trusts { id } }', variables: { pad: 'p'.repeat(MAX_BODY_BYTES + 1) } } }),
    413,
  ),
  bad('GET: a mutation', () => ({ get: 'mutation { claimAvailableNet { id } }' })),
  // lists too long
  bad('list: 501 trust ids', () =>
    gql('query($ids: [ID!]!) { trustSlotNames(trustIds: $ids) { slotName } }', {
      ids: Array.from({ length: 501 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`),
    }),
  ),
  // text holding NUL
  bad('NUL: createTrust(name)', () =>
    gql('mutation($name: String!) { createTrust(input: { name: $name }) { id } }', { name: 'St\u0000 Mary' }),
  ),
  bad('NUL: createProject(name)', () =>
    gql('mutation($name: String!) { createProject(input: { name: $name }) { id } }', { name: '\u0000' }),
  ),
  bad('NUL: createModel(name)', (s) =>
    gql('mutation($input: CreateModelInput!) { createModel(input: $input) { id } }', {
      input: { projectId: s.projectId, name: 'm\u0000', approvedTrustIds: [] },
    }),
  ),
  bad('NUL: createCohortQuery(query)', (s) =>
    gql('mutation($input: CreateCohortQueryInput!) { createCohortQuery(input: $input) { id } }', {
      input: { projectId: s.projectId, name: 'c', query: 'select\u0000' },
    }),
  ),
  bad('NUL: createCohortQuery(name)', (s) =>
    gql('mutation($input: CreateCohortQueryInput!) { createCohortQuery(input: $input) { id } }', {
      input: { projectId: s.projectId, name: '\u0000c', query: 'select 1' },
    }),
  ),
  bad('NUL: netByName(name)', () => gql('query($name: String!) { netByName(name: $name) { id } }', { name: 'net-a\u0000' })),
];

const CASES: Case[] = [...MALFORMED_IDS, ...UNKNOWN_IDS, ...MALFORMED_REQUESTS];

describe('malformed requests', () => {
  let db: TestDatabase;
  let hub: TestHub;
  let seed: Seed;
  let before: Snapshot;

  /** Sends as an admin, so that every refusal is about the request itself. */
  async function send(outgoing: Outgoing): Promise<{ status: number; body: ErrorBody; text: string }> {
    const server = hub.app.getHttpServer();
    const authorization = `Bearer ${await testToken(['admin'])}`;
    let response: request.Response;
    if ('get' in outgoing) {
      response = await request(server)
        .get('/graphql')
        .query({ query: outgoing.get })
        .set('apollo-require-preflight', 'true')
        .set('authorization', authorization);
    } else {
      const body =
        'raw' in outgoing
          ? outgoing.raw
          : JSON.stringify('json' in outgoing ? outgoing.json : { query: outgoing.query, variables: outgoing.variables });
      response = await request(server)
        .post('/graphql')
        .set('content-type', 'application/json')
        .set('authorization', authorization)
        .send(body);
    }
    return { status: response.status, body: (response.body ?? {}) as ErrorBody, text: response.text };
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startTestHub(db.url, { netEndpoints: [{ name: 'net-a', endpoint: 'http://127.0.0.1:1' }], kitSlots: ['slot-1'] });
    const { createTrust } = await hub.gqlOk<{ createTrust: { id: string } }>(
      'mutation { createTrust(input: { name: "Trust" }) { id } }',
    );
    const { createProject } = await hub.gqlOk<{ createProject: { id: string } }>(
      'mutation { createProject(input: { name: "Project" }) { id } }',
    );
    await hub.gqlOk('mutation($p: ID!) { createCohortQuery(input: { projectId: $p, name: "c", query: "select 1" }) { id } }', {
      p: createProject.id,
    });
    const { createModel } = await hub.gqlOk<{ createModel: { id: string } }>(
      'mutation($p: ID!, $t: ID!) { createModel(input: { projectId: $p, name: "Model", approvedTrustIds: [$t] }) { id } }',
      { p: createProject.id, t: createTrust.id },
    );
    const { queueTraining } = await hub.gqlOk<{ queueTraining: { id: string } }>(
      'mutation($m: ID!, $t: ID!) { queueTraining(modelId: $m, trustIds: [$t]) { id } }',
      { m: createModel.id, t: createTrust.id },
    );
    seed = {
      trustId: createTrust.id,
      projectId: createProject.id,
      modelId: createModel.id,
      jobId: queueTraining.id,
    };
    before = await snapshot(db.pool);
  });

  afterAll(async () => {
    await hub?.close();
    await db?.drop();
  });

  it('covers at least 25 malformed requests', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(25);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const { status, body, text } = await send(testCase.request(seed));

    expect(status).toBeLessThan(500);
    if (testCase.status !== undefined) expect(status).toBe(testCase.status);
    expect(text).not.toContain('INTERNAL_SERVER_ERROR');
    // a GraphQL-shaped answer: `errors`, each with the expected code
    expect(body).toHaveProperty('errors.0.extensions.code', testCase.code);
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(body.errors?.map(() => testCase.code));
    expect(await snapshot(db.pool)).toEqual(before);
  });

  it('still answers a normal query and mutation afterwards', async () => {
    const data = await hub.gqlOk<{
      trusts: Array<{ id: string }>;
      jobs: Array<{ id: string; status: string; queuePosition: number }>;
    }>('{ trusts { id } jobs { id status queuePosition } }');
    expect(data.trusts.map((t) => t.id)).toEqual([seed.trustId]);
    expect(data.jobs).toEqual([{ id: seed.jobId, status: 'QUEUED', queuePosition: 1 }]);
    const { createProject } = await hub.gqlOk<{ createProject: { name: string } }>(
      'mutation { createProject(input: { name: "After" }) { name } }',
    );
    expect(createProject.name).toBe('After');
  });
});
