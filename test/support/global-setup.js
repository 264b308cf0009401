// jest loads global setup with Node's own loader, outside its TypeScript
// transform: register swc's ESM loader so the TypeScript helpers can be imported.
await import('@swc-node/register/esm-register');

export default async function globalSetup() {
  const { startTestDatabaseServer } = await import('./test-database-server.ts');
  const server = await startTestDatabaseServer(process.env.DATABASE_URL);
  globalThis.__flTestDatabaseServer = server;
  process.env.FL_TEST_ADMIN_URL = server.adminUrl;
  process.env.FL_TEST_TEMPLATE = server.template;
}
