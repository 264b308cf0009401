// jest loads global setup with Node's own loader, outside its TypeScript
// transform: register swc's ESM loader so the TypeScript helpers can be imported.
await import('@swc-node/register/esm-register');

import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * The hub as the hub processes of the fault tests run it (test/support/hub-process.ts):
 * compiled ONCE per test run into .test-build/, so that each process starts in a
 * second or two instead of compiling the whole of src/ on its own — on a loaded
 * 2-core machine that compile took a process most of its start-up bound.
 */
function buildHubForProcesses() {
  const root = process.cwd();
  execFileSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', '.test-build'], {
    cwd: root,
    stdio: 'inherit',
  });
}

export default async function globalSetup() {
  buildHubForProcesses();
  const { startTestDatabaseServer } = await import('./test-database-server.ts');
  const server = await startTestDatabaseServer(process.env.DATABASE_URL);
  globalThis.__flTestDatabaseServer = server;
  const { startStallWatch } = await import('./stall-watch.ts');
  globalThis.__flStallWatch = await startStallWatch(server.adminUrl);
  process.env.FL_TEST_ADMIN_URL = server.adminUrl;
  process.env.FL_TEST_TEMPLATE = server.template;
}
