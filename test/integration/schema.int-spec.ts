import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DatabaseSchema, MikroORM, ReferenceKind, type EntityClass } from '@mikro-orm/postgresql';
import { columnName } from '../../src/database/columns.js';
import { entities } from '../../src/modules/entities.js';
import { buildOrmOptions } from '../../src/database/mikro-orm.options.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * The entities are the schema: on a database built by the committed
 * migrations, MikroORM's schema generator finds nothing to change. What the
 * migrations hold that an entity cannot say is listed here, each with why,
 * and must exist — so neither side drifts silently.
 */
const NOT_IN_ENTITIES = {
  foreignKeys: [
    {
      table: 'scheduler',
      name: 'scheduler_job_on_own_net_fk',
      why: "(job_id, net_id) → job (id, net_id), deferred: a scheduler's job runs on its net. MikroORM relations reference the target's primary key only",
    },
  ],
  triggers: [
    {
      table: 'job',
      name: 'job_changed',
      why: 'NOTIFY fl_events (migration 20261128020000); the plpgsql body lives in the migration only',
    },
    { table: 'scheduler', name: 'scheduler_changed', why: 'NOTIFY fl_events, as job_changed' },
    {
      table: 'job',
      name: 'job_project',
      why: "sets a new job's project_id from its model, whatever statement inserts it (migration 20261201090000)",
    },
    {
      table: 'net',
      name: 'net_drain_changed',
      why: 'NOTIFY fl_events of a drain or resume, as a scheduler change (migration 20261201040000)',
    },
    {
      table: 'trust',
      name: 'trust_changed',
      why: 'NOTIFY fl_events of a trust, its limit or its hold (migration 20261201100000)',
    },
    { table: 'kit_slot', name: 'kit_slot_assigned', why: 'NOTIFY fl_events of a trust given a kit slot, as trust_changed' },
    { table: 'project', name: 'project_changed', why: 'NOTIFY fl_events of a project, its limit or its share, as trust_changed' },
    {
      table: 'model_approved_trust',
      name: 'revoked_approval_kept',
      why: 'keeps revoked_approval: a removed approval adds its pair, an added one takes it out (migration 20261201105000)',
    },
  ],
  /** the schema generator does not compare functions: the test checks the database has exactly these */
  functions: [
    { name: 'fl_notify_job_change', why: "job_changed's body" },
    { name: 'fl_notify_scheduler_change', why: "scheduler_changed's body" },
    { name: 'fl_notify_net_drain_change', why: "net_drain_changed's body" },
    { name: 'fl_job_project', why: "job_project's body" },
    { name: 'fl_notify_trust_change', why: "trust_changed's and kit_slot_assigned's body" },
    { name: 'fl_notify_project_change', why: "project_changed's body" },
    { name: 'fl_revoked_approval', why: "revoked_approval_kept's body" },
  ],
};

/** The migrated database's schema, read the way the schema generator reads it, without the listed exceptions. */
async function databaseSchemaWithoutExceptions(orm: MikroORM): Promise<DatabaseSchema> {
  const connection = orm.em.getConnection();
  const platform = orm.em.getPlatform();
  const schema = await DatabaseSchema.create(connection, platform, orm.config);
  for (const { table, name } of NOT_IN_ENTITIES.foreignKeys) {
    const t = schema.getTable(table);
    const fks = { ...t?.getForeignKeys() };
    delete fks[name];
    t?.setForeignKeys(fks);
  }
  for (const { table, name } of NOT_IN_ENTITIES.triggers) {
    const t = schema.getTable(table);
    t?.setTriggers(t.getTriggers().filter((trigger) => trigger.name !== name));
  }
  return schema;
}

async function schemaChanges(orm: MikroORM): Promise<string> {
  return orm.schema.getUpdateSchemaSQL({ wrap: false, fromSchema: await databaseSchemaWithoutExceptions(orm) });
}

describe('one description of each table', () => {
  let db: TestDatabase;
  let orm: MikroORM;

  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await MikroORM.init(buildOrmOptions({ entities, clientUrl: db.url }));
  });

  afterAll(async () => {
    await orm?.close();
    await db?.drop();
  });

  it('the migrations build exactly the schema the entities describe, but for the listed exceptions', async () => {
    expect(await schemaChanges(orm)).toBe('');
  });

  it('every listed exception exists in the migrated database, and no other function', async () => {
    const { rows: fks } = await db.pool.query<{ table: string; name: string }>(
      `select conrelid::regclass::text as table, conname as name from pg_constraint where contype = 'f'`,
    );
    const { rows: triggers } = await db.pool.query<{ table: string; name: string }>(
      `select tgrelid::regclass::text as table, tgname as name from pg_trigger where not tgisinternal`,
    );
    const { rows: functions } = await db.pool.query<{ name: string }>(
      `select p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'`,
    );
    const pick = ({ table, name }: { table: string; name: string }) => ({ table, name });
    for (const fk of NOT_IN_ENTITIES.foreignKeys) expect(fks).toContainEqual(pick(fk));
    for (const trigger of NOT_IN_ENTITIES.triggers) expect(triggers).toContainEqual(pick(trigger));
    expect(functions.map((f) => f.name).sort()).toEqual(NOT_IN_ENTITIES.functions.map((f) => f.name).sort());
  });

  it('finds drift: a column, an index or a check the entities do not describe', async () => {
    const drifted = await createTestDatabase();
    const driftedOrm = await MikroORM.init(buildOrmOptions({ entities, clientUrl: drifted.url }));
    try {
      await drifted.pool.query(`alter table job alter column claimed_by set not null`);
      await drifted.pool.query(`drop index job_queue_idx`);
      await drifted.pool.query(`alter table kit_slot drop constraint kit_slot_assignment_check`);
      await drifted.pool.query(`alter table net add column spare int`);
      const changes = await schemaChanges(driftedOrm);
      expect(changes).toContain('alter table "job" alter column "claimed_by" drop not null');
      expect(changes).toContain('create index "job_queue_idx" on "job" ("seq") where');
      expect(changes).toContain('add constraint "kit_slot_assignment_check"');
      expect(changes).toContain('alter table "net" drop column "spare"');
    } finally {
      await driftedOrm.close();
      await drifted.drop();
    }
  });

  it('column lists name each column as the ORM maps it', () => {
    const metadata = orm.getMetadata();
    const columnOf = columnName as (entity: EntityClass<unknown>, property: string) => string;
    let checked = 0;
    for (const entity of entities as EntityClass<unknown>[]) {
      for (const prop of metadata.get(entity).props) {
        const isColumn =
          prop.kind === ReferenceKind.SCALAR ||
          prop.kind === ReferenceKind.MANY_TO_ONE ||
          (prop.kind === ReferenceKind.ONE_TO_ONE && prop.owner);
        if (!isColumn || prop.fieldNames.length !== 1) continue;
        const property = `${entity.name}.${String(prop.name)}`;
        expect(`${property} → ${columnOf(entity, String(prop.name))}`).toBe(`${property} → ${prop.fieldNames[0]}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});
