import path from 'node:path';
import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { FIXTURES, testMigrator } from '../support/migrator.js';

let t: TestDatabase;
beforeEach(async () => {
  t = await openTestDatabase(import.meta.filename);
});
afterEach(async () => {
  await t.drop();
});

it('many migrators on one client share one Mongoose connection: no listeners pile up on the client', async () => {
  const listeners = () => t.client.listenerCount('serverDescriptionChanged') + t.client.listenerCount('serverHeartbeatSucceeded');
  await testMigrator(t, path.join(FIXTURES, 'basic')).up();
  const afterFirst = listeners();
  for (let i = 0; i < 12; i++) {
    await t.db.dropDatabase();
    const result = await testMigrator(t, path.join(FIXTURES, 'basic')).up();
    expect(result.migrations).toHaveLength(3);
  }
  expect(listeners()).toBe(afterFirst);
});
