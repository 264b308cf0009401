import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EntityManager } from '@mikro-orm/postgresql';
import { query, sql } from '../../src/database/sql.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { createScenario, type Scenario } from '../support/scenario.js';

/**
 * The statements on the way from queueTraining to a start are prepared once
 * per session (prepared-statements.int-spec.ts); this checks that PostgreSQL
 * also keeps one plan for them instead of planning each call anew — a plan
 * made per call cost the queueing statement more than running it. One session
 * (DB_POOL_MAX=1), so every call lands on the session that is asked.
 */
describe('statements on the start path keep a generic plan', () => {
  let db: TestDatabase;
  let hub: TestHub;
  let s: Scenario;

  beforeAll(async () => {
    db = await createTestDatabase();
    hub = await startTestHub(db.url, { dbPoolMax: 1 });
    s = await createScenario(hub);
  });

  afterAll(async () => {
    await hub?.close();
    await db?.drop();
  });

  it('the queueing statement: after a few calls PostgreSQL runs it on its generic plan, and each call still queues', async () => {
    const queued: string[] = [];
    for (let i = 0; i < 8; i++) {
      const modelId = await s.newModel();
      const jobId = await s.queue(modelId);
      queued.push(jobId);
      // a second request for the same model still meets the live-job check on the generic plan
      const again = await hub.gql('mutation($m: ID!, $t: [ID!]!) { queueTraining(modelId: $m, trustIds: $t) { id } }', {
        m: modelId,
        t: s.trustIds,
      });
      expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    }
    const em = hub.app.get(EntityManager).fork();
    const [plans] = await query<{ generic: number; custom: number }>(
      em,
      sql`select generic_plans::int as generic, custom_plans::int as custom from pg_prepared_statements
          where statement like ${'%/* lifecycle:queueJob */%'}`,
    );
    expect(plans).toBeDefined();
    // PostgreSQL plans the first five calls for their values, then compares; planned anew each time, generic stays 0
    expect(plans.generic).toBeGreaterThan(0);
    expect(plans.custom).toBeLessThanOrEqual(5);
    const [counted] = await query<{ n: number; linked: number }>(
      em,
      sql`select count(*)::int as n, (select count(*)::int from job_trust where job_id = any(${queued}::uuid[])) as linked
          from job where id = any(${queued}::uuid[]) and status = 'QUEUED'`,
    );
    expect(counted).toEqual({ n: 8, linked: 8 * s.trustIds.length });
  });
});
