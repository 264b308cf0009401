// Configuration for the MikroORM CLI (e.g. `npx mikro-orm migration:create`, run with
// `node --import @swc-node/register/esm-register node_modules/@mikro-orm/cli/esm`).
import { loadConfig } from './src/config/app-config.js';
import { entities } from './src/modules/entities.js';
import { buildOrmOptions } from './src/database/mikro-orm.options.js';

const config = loadConfig();
if (config.databaseUrl === null) {
  throw new Error('Set DATABASE_URL to use the MikroORM CLI (e.g. the URL `npm start` prints for the embedded database).');
}
export default buildOrmOptions({ entities, clientUrl: config.databaseUrl });
