import 'reflect-metadata';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { MikroORM } from '@mikro-orm/postgresql';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../src/database/embedded-postgres.js';
import { ensureDatabase } from '../../src/database/ensure-database.js';
import { entities } from '../../src/modules/entities.js';
import { buildOrmOptions } from '../../src/database/mikro-orm.options.js';
import { withClient } from './seed.js';
import { sleep } from './stats.js';

const TEMPLATE = 'bench_template';

/**
 * Counts the SQL statements PostgreSQL logs for databases created with
 * `logStatements: true` (`ALTER DATABASE … SET log_statement = 'all'` and
 * `log_min_duration_statement = 0`, so every session on them logs every
 * statement and its duration from its first one). PostgreSQL's stderr reaches
 * us through startEmbeddedPostgres' `log` callback.
 */
export interface LoggedStatements {
  /** first line of each statement, whitespace collapsed */
  statements: string[];
  /** time PostgreSQL spent on them (parse + bind + execute), ms */
  serverMs: number;
}

export class StatementLog {
  private chunks: string[] | null = null;

  /** Fed with every chunk PostgreSQL writes to stderr. */
  feed(chunk: string): void {
    this.chunks?.push(chunk);
  }

  start(): void {
    this.chunks = [];
  }

  /**
   * Stops recording once everything sent before now has reached the log: runs
   * a marker statement on `marker` (a connection to a logged database) and
   * waits for it. Returns the statements logged before the marker.
   */
  async stop(marker: pg.ClientBase): Promise<LoggedStatements> {
    const token = `bench-marker-${randomUUID()}`;
    await marker.query(`select '${token}'`);
    const deadline = performance.now() + 5000;
    while (!(this.chunks ?? []).join('\n').includes(token)) {
      if (performance.now() > deadline) throw new Error('the statement log never showed the marker: is log_statement on?');
      await sleep(2);
    }
    const text = (this.chunks ?? []).join('\n');
    this.chunks = null;
    const upToMarker = text.slice(0, text.lastIndexOf('LOG:', text.indexOf(token)));
    const statements: string[] = [];
    // simple protocol: "LOG:  statement: begin"; extended protocol: "LOG:  execute <unnamed>: select …"
    for (const match of upToMarker.matchAll(/LOG:\s+(?:statement|execute [^:\n]*):\s*([^\n]*)/g)) {
      statements.push(match[1].replace(/\s+/g, ' ').trim());
    }
    // log_min_duration_statement = 0: "LOG:  duration: 0.051 ms" (parse, bind and execute each)
    let serverMs = 0;
    for (const match of upToMarker.matchAll(/LOG:\s+duration: ([\d.]+) ms/g)) serverMs += Number(match[1]);
    return { statements, serverMs };
  }
}

export interface BenchCluster {
  readonly adminUrl: string;
  /** the cluster's data directory (removed by stop) */
  readonly dataDir: string;
  readonly statements: StatementLog;
  /** A fresh database copied from the migrated template; returns its URL. */
  createDatabase(name: string, options?: { logStatements?: boolean }): Promise<string>;
  /** An empty database (no schema: a hub of another checkout migrates it at start-up); returns its URL. */
  createEmptyDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** An embedded PostgreSQL of the benchmark's own, with a migrated template database. */
export async function startBenchCluster(): Promise<BenchCluster> {
  const dataDir = path.resolve(`.data/bench-${process.pid}`);
  const statements = new StatementLog();
  let handle: EmbeddedPostgresHandle;
  try {
    handle = await startEmbeddedPostgres({ dataDir, port: 0, ephemeral: true, log: (line) => statements.feed(line) });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const stop = async (): Promise<void> => {
    await handle.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await ensureDatabase(handle.adminUrl, TEMPLATE);
    const orm = await MikroORM.init(buildOrmOptions({ entities, clientUrl: withDatabase(handle.adminUrl, TEMPLATE) }));
    try {
      await orm.migrator.up();
    } finally {
      await orm.close();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    adminUrl: handle.adminUrl,
    dataDir,
    statements,
    createDatabase: async (name, options = {}) => {
      await withClient(handle.adminUrl, async (client) => {
        await client.query(`create database "${name}" template "${TEMPLATE}"`);
        if (options.logStatements) {
          await client.query(`alter database "${name}" set log_statement = 'all'`);
          await client.query(`alter database "${name}" set log_min_duration_statement = 0`);
        }
      });
      return withDatabase(handle.adminUrl, name);
    },
    createEmptyDatabase: async (name) => {
      await withClient(handle.adminUrl, (client) => client.query(`create database "${name}"`));
      return withDatabase(handle.adminUrl, name);
    },
    stop,
  };
}
