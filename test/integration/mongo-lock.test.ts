import { MongoLock, createLogger, newRunIdentity } from '@mongrate/core';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { describeMigrationLockContract } from '../support/lock-contract.js';

let t: TestDatabase;
describeMigrationLockContract('MongoLock', {
  setup: async () => {
    t = await openTestDatabase(import.meta.filename);
  },
  create: ({ leaseMs, waitTimeoutMs }) =>
    new MongoLock({ db: t.db, identity: newRunIdentity(), logger: createLogger({ level: 'error' }), leaseMs, waitTimeoutMs, pollMs: 50 }),
  teardown: () => t.drop(),
});
