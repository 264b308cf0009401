// jest's global teardown: stops the PostgreSQL started by global-setup.js.
export default async function globalTeardown() {
  await globalThis.__flTestDatabaseServer?.stop();
}
