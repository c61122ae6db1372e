import { MongoMigrationStorage } from '@mongrate/core';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { describeMigrationStorageContract } from '../support/storage-contract.js';

let t: TestDatabase;
describeMigrationStorageContract('MongoMigrationStorage', {
  setup: async () => {
    t = await openTestDatabase(import.meta.filename);
  },
  create: () => new MongoMigrationStorage({ db: t.db }),
  teardown: () => t.drop(),
});
