// Jest loads global setup outside its module system, so TypeScript comes in through tsx.
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  /** @type {typeof import('./server.ts')} */
  const { startServer } = await tsImport('./server.ts', import.meta.url);
  const server = await startServer();
  globalThis.__mongrateServer = server;
  // Workers are forked after this, so they inherit it.
  process.env.MONGRATE_TEST_URI = server.uri;
  process.env.MONGRATE_TEST_SERVER_KIND = server.kind;
  if (server.restartScript) process.env.MONGRATE_TEST_RESTART = server.restartScript;
  process.stdout.write(`\nIntegration tests run against: ${server.description}\n`);
}
