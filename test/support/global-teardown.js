export default async function globalTeardown() {
  await globalThis.__flTestDatabaseServer?.stop();
}
