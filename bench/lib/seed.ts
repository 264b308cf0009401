import pg from 'pg';

/** A project with a cohort query, trusts bound to kit slots, and models approving every trust — inserted with plain SQL. */
export interface Fixture {
  projectId: string;
  trustIds: string[];
  /** kit slot names of the trusts, in the same order: the fake nets' client names */
  slotNames: string[];
  modelIds: string[];
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function seedFixture(
  client: pg.ClientBase,
  options: { models: number; trusts: number; tag: string },
): Promise<Fixture> {
  const { tag } = options;
  const project = await client.query<{ id: string }>('insert into project (name) values ($1) returning id', [`Project ${tag}`]);
  const projectId = project.rows[0].id;
  await client.query('insert into cohort_query (project_id, name, query) values ($1, $2, $3)', [
    projectId,
    'cohort',
    `SELECT * FROM cohort WHERE tag = '${tag}'`,
  ]);
  const trusts = await client.query<{ id: string; slot: string }>(
    `with t as (
       insert into trust (name) select $1 || ' trust ' || g from generate_series(1, $2::int) g returning id, name
     ), numbered as (
       select id, row_number() over (order by name) as n from t
     ), slots as (
       insert into kit_slot (slot_name, slot_number, assigned_trust_id, assigned_at)
       select 'site-' || $1 || '-' || n, n + coalesce((select max(slot_number) from kit_slot), 0), id, now() from numbered
       returning slot_name, assigned_trust_id, slot_number
     )
     select assigned_trust_id as id, slot_name as slot from slots order by slot_number`,
    [tag, options.trusts],
  );
  const models = await client.query<{ id: string }>(
    `insert into model (name, project_id) select $1 || ' model ' || g, $2 from generate_series(1, $3::int) g returning id`,
    [tag, projectId, options.models],
  );
  const trustIds = trusts.rows.map((t) => t.id);
  const modelIds = models.rows.map((m) => m.id);
  await client.query(
    `insert into model_approved_trust (model_id, trust_id) select m, t from unnest($1::uuid[]) m, unnest($2::uuid[]) t`,
    [modelIds, trustIds],
  );
  return { projectId, trustIds, slotNames: trusts.rows.map((t) => t.slot), modelIds };
}

/**
 * Bench-database instrumentation: PostgreSQL NOTIFYs `bench_job_started` with
 * the job id when the hub records a job's backend run id (the job is then
 * IN_PROGRESS and started on its net). The notification is delivered at the
 * commit of the hub's statement, so listeners see the exact moment without
 * polling the row.
 */
export async function installStartedTrigger(client: pg.ClientBase): Promise<void> {
  await client.query(`
    create function bench_notify_started() returns trigger language plpgsql as $$
    begin
      perform pg_notify('bench_job_started', new.id::text);
      return null;
    end $$;
    create trigger bench_job_started after update of backend_job_id on job
      for each row when (new.backend_job_id is not null and new.status = 'IN_PROGRESS')
      execute function bench_notify_started();`);
}

export interface JobSeed {
  count: number;
  status: 'QUEUED' | 'COMPLETED' | 'DELETED';
  modelIds: readonly string[];
  /** every job gets these trusts */
  trustIds: readonly string[];
  /** COMPLETED/DELETED jobs ran on these nets (round-robin); none: no net */
  netIds?: readonly string[];
}

/**
 * Inserts `count` jobs with their trusts, in one statement. Ended jobs take
 * the models round-robin; QUEUED ones get a model each (one live job per
 * model), new models of the first model's project approving the trusts.
 */
export async function seedJobs(client: pg.ClientBase, seed: JobSeed): Promise<void> {
  if (seed.status === 'QUEUED') {
    await client.query(
      `with models as (
         insert into model (name, project_id)
         select 'queued model ' || gen_random_uuid(), (select project_id from model where id = $1) from generate_series(1, $2::int)
         returning id
       ), approved as (
         insert into model_approved_trust (model_id, trust_id) select m.id, t from models m, unnest($3::uuid[]) t
       ), created as (
         insert into job (model_id, project_id) select id, (select project_id from model where id = $1) from models returning id
       ) insert into job_trust (job_id, trust_id) select c.id, t from created c, unnest($3::uuid[]) t`,
      [seed.modelIds[0], seed.count, seed.trustIds],
    );
    return;
  }
  await client.query(
    `with created as (
       insert into job (model_id, project_id, status, started_at, completed_at, net_id, attempts, backend_job_id)
       select ($1::uuid[])[1 + g % cardinality($1::uuid[])], (select project_id from model where id = ($1::uuid[])[1]), $2,
              clock_timestamp() - interval '2 hours',
              case when $2 = 'COMPLETED' then clock_timestamp() - interval '1 hour' end,
              case when cardinality($3::uuid[]) > 0 then ($3::uuid[])[1 + g % cardinality($3::uuid[])] end,
              1, 'run-' || g
       from generate_series(1, $4::int) g
       returning id
     ) insert into job_trust (job_id, trust_id) select c.id, t from created c, unnest($5::uuid[]) t`,
    [seed.modelIds, seed.status, seed.netIds ?? [], seed.count, seed.trustIds],
  );
}

/** One IN_PROGRESS (started) job on each of `netIds`, its scheduler BUSY with it. */
export async function seedRunningJobs(
  client: pg.ClientBase,
  seed: { modelIds: readonly string[]; trustIds: readonly string[]; netIds: readonly string[] },
): Promise<void> {
  await client.query(
    `with created as (
       insert into job (model_id, project_id, status, started_at, net_id, attempts, backend_job_id, claim_token, start_phase)
       select ($1::uuid[])[1 + (n.ord::int % cardinality($1::uuid[]))], (select project_id from model where id = ($1::uuid[])[1]), 'IN_PROGRESS', clock_timestamp(), n.id, 1,
              'run-live-' || n.ord, gen_random_uuid(), 'RUNNING'
       from unnest($2::uuid[]) with ordinality as n(id, ord)
       returning id, net_id
     ), linked as (
       insert into job_trust (job_id, trust_id) select c.id, t from created c, unnest($3::uuid[]) t
     ) update scheduler s set status = 'BUSY', job_id = c.id, lease_until = null, updated_at = now()
       from created c where s.net_id = c.net_id`,
    [seed.modelIds, seed.netIds, seed.trustIds],
  );
}
