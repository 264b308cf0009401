// jest's global teardown: prints what the stall watch saw (if anything), stops the PostgreSQL started by global-setup.js.
export default async function globalTeardown() {
  const stalls = await globalThis.__flStallWatch?.stop();
  if (stalls) console.log(stalls);
  await globalThis.__flTestDatabaseServer?.stop();
}
