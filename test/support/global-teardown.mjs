export default async function globalTeardown() {
  await globalThis.__mongrateServer?.stop();
  globalThis.__mongrateServer = undefined;
}
