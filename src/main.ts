import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { TokenVerifier } from './common/auth/token-verifier.js';
import { ConfigError, loadConfig } from './config/app-config.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './database/embedded-postgres.js';
import { ensureDatabase } from './database/ensure-database.js';
import { createHub } from './hub.js';
import { PickupCron } from './modules/schedulers/picking-up/pickup.cron.js';
import { ClientStatusRefresher } from './modules/nets/client-status.refresher.js';
import { startSimNets, type RunningSimNets } from './sim-nets/sim-nets.js';

const SHUTDOWN_TIMEOUT_MS = 15_000;
const EMBEDDED_DATABASE = 'fl_scheduler';

async function main(): Promise<void> {
  const logger = new Logger('Hub');
  let config;
  let simNets: RunningSimNets | null = null;
  try {
    config = loadConfig();
    if (config.simNets > 0) {
      const simLogger = new Logger('SimNets');
      // runs at info; the calls (every reconcile lists the runs) at debug
      simNets = await startSimNets(config, (line, kind) => (kind === 'run' ? simLogger.log(line) : simLogger.debug(line)));
      config = simNets.config;
      const started = config.netEndpoints.slice(-config.simNets).map((n) => `${n.name} (${n.endpoint})`);
      logger.log(`simulated nets: ${started.join(', ')}; each run trains ${config.simNetTrainMs} ms (SIM_NETS=0: none)`);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  let embedded: EmbeddedPostgresHandle | null = null;
  let databaseUrl = config.databaseUrl;
  if (databaseUrl === null) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.embeddedDataDir,
      port: config.embeddedPort,
      log: (line) => logger.debug(line),
    });
    await ensureDatabase(embedded.adminUrl, EMBEDDED_DATABASE);
    databaseUrl = embedded.urlFor(EMBEDDED_DATABASE);
    logger.log(`embedded PostgreSQL: ${databaseUrl.replace(/:[^:@/]*@/, ':***@')} (data in ${config.embeddedDataDir})`);
  }

  const app = await createHub(config, databaseUrl);
  await app.listen(config.port);
  logger.log(`fl-scheduler listening on http://127.0.0.1:${config.port}/ (console; GraphQL at /graphql, health at /health)`);
  const devToken = await app.get(TokenVerifier).developmentAdminToken();
  if (devToken) {
    logger.warn(
      'no AUTH_JWT_SECRET or AUTH_JWKS_URL: made a random secret for this run. Admin token for the console and GraphiQL (12 h):',
    );
    console.log(`\n  {"Authorization": "Bearer ${devToken}"}\n`);
  }

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    // before anything awaits: the shutdown hooks run module by module; meanwhile a change announced must start no
    // cycle, and a client-status poll falling due must send no net call
    app.get(PickupCron, { strict: false }).stopTakingCycles();
    app.get(ClientStatusRefresher, { strict: false }).stopPolling();
    logger.log(`${signal}: shutting down`);
    const timer = setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    void (async () => {
      await app.close().catch((error: unknown) => logger.error(`closing the app: ${String(error)}`));
      await simNets?.close().catch((error: unknown) => logger.error(`closing the simulated nets: ${String(error)}`));
      await embedded?.stop().catch((error: unknown) => logger.error(`stopping PostgreSQL: ${String(error)}`));
      process.exit(0);
    })();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
