import { MikroORM } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import pg from 'pg';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DATABASE_URL } from './database.tokens.js';
import { sql, query } from './sql.js';

/** Any constant works; it only has to be the same for every hub instance. */
const BOOTSTRAP_LOCK = 7_291_001;

/**
 * Applies migrations and seeds nets, schedulers and kit slots at start-up.
 * Several instances may start at once on one empty database: a PostgreSQL
 * advisory lock makes them take turns, and every seed statement is an upsert.
 */
@Injectable()
export class DatabaseBootstrapService implements OnModuleInit {
  private readonly logger = new Logger('Database');

  constructor(
    private readonly orm: MikroORM,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(DATABASE_URL) private readonly databaseUrl: string,
  ) {}

  async onModuleInit(): Promise<void> {
    const lockClient = new pg.Client({ connectionString: this.databaseUrl });
    // a session lost while idle emits 'error' (unhandled, it would crash start-up); a lost query rejects on its own
    lockClient.on('error', (error) => this.logger.warn(`the start-up lock's session was lost: ${error.message}`));
    await lockClient.connect();
    try {
      await lockClient.query('select pg_advisory_lock($1)', [BOOTSTRAP_LOCK]);
      const applied = await this.orm.migrator.up();
      if (applied.length > 0) this.logger.log(`applied migrations: ${applied.map((m) => m.name).join(', ')}`);
      await this.seed();
    } finally {
      await lockClient.end().catch(() => undefined);
    }
  }

  private async seed(): Promise<void> {
    const { netEndpoints, flBackend, kitSlots } = this.config;
    await this.orm.em.fork().transactional(async (em) => {
      if (netEndpoints.length > 0) {
        const nets = JSON.stringify(netEndpoints);
        await query(
          em,
          sql`insert into net (name, endpoint, fl_backend)
              select n.name, n.endpoint, ${flBackend}
              from jsonb_to_recordset(${nets}::jsonb) as n(name text, endpoint text)
              on conflict (name) do update set endpoint = excluded.endpoint, fl_backend = excluded.fl_backend`,
        );
      }
      await query(em, sql`insert into scheduler (net_id) select id from net on conflict (net_id) do nothing`);
      if (kitSlots.length > 0) {
        await query(
          em,
          sql`insert into kit_slot (slot_name, slot_number)
              select s.name, (select coalesce(max(slot_number), 0) from kit_slot) + row_number() over (order by s.ord)
              from jsonb_array_elements_text(${JSON.stringify(kitSlots)}::jsonb) with ordinality as s(name, ord)
              where not exists (select 1 from kit_slot k where k.slot_name = s.name)`,
        );
      }
    });
    this.logger.log(`seeded ${netEndpoints.length} net(s) (${flBackend}) and ${kitSlots.length} kit slot(s)`);
  }
}
