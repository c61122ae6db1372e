import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { MongoClient, type Document } from 'mongodb';
import { backupAndUpdate, restoreBackups, type MigrationContext } from '@mongrate/core';
import { collectionHash } from '../support/collection-hash.js';
import { openTestDatabase, serverUri, type TestDatabase } from '../support/database.js';
import { SimulatedCrash, interceptDb, toolkitContext, type CheckpointStore } from '../support/toolkit-context.js';

// An application may hand in a client from its own copy of the driver: errors and BSON values then come from
// classes other than ours, so the toolkit must never rely on `instanceof` of driver classes.
// The lockfile keeps one copy of the driver, so the other copy is a second instance of its module: loaded by Node's own
// registry of its own, its classes are not the ones the test and core import.
let other: { MongoClient: typeof MongoClient; MongoBulkWriteError: unknown } = { MongoClient, MongoBulkWriteError: undefined };
await jest.isolateModulesAsync(async () => {
  other = (await import('mongodb')) as typeof other;
});

let t: TestDatabase;
let app: MongoClient;
beforeAll(async () => {
  t = await openTestDatabase(import.meta.filename);
  app = await other.MongoClient.connect(serverUri());
});
afterAll(async () => {
  await app.close();
  await t.drop();
});

it('a resumed batch refreshes its backups with a client from another copy of the driver', async () => {
  expect(other.MongoClient).not.toBe(MongoClient);
  const db = app.db(t.name);
  const tokens = db.collection('tokens');
  await tokens.insertMany(Array.from({ length: 23 }, (_, i) => ({ kind: 'k', status: 'unspent', spent_at: null, i })));
  const options = { collection: 'tokens', filter: { kind: 'k', status: 'unspent' }, fields: ['status', 'spent_at'], set: { status: 'spent', spent_at: new Date('2030-04-04T00:00:00Z') } };
  const ctx = (extra: Parameters<typeof toolkitContext>[2] = {}): MigrationContext => toolkitContext(db, app, { batchSize: 10, ...extra });
  const store: CheckpointStore = { value: undefined };
  const crash = interceptDb(db, [
    {
      collection: 'migration_backups',
      method: 'insertMany',
      after: () => {
        throw new SimulatedCrash();
      },
    },
  ]);
  await expect(backupAndUpdate(ctx({ checkpoint: store, db: crash }), options)).rejects.toBeInstanceOf(SimulatedCrash);
  const [victim] = await db.collection('migration_backups').find({}, { sort: { _id: 1 }, limit: 1 }).toArray();
  await tokens.updateOne({ _id: victim?.docId }, { $set: { spent_at: new Date('2031-01-01T00:00:00Z') } });
  const original = await collectionHash(t.db.collection<Document>('tokens'));

  const up = await backupAndUpdate(ctx({ checkpoint: store }), options);
  expect(up).toMatchObject({ remaining: 0, backedUp: 23 });
  // ObjectId ids from the other copy are keyed like ours.
  expect(await db.collection('migration_backups').countDocuments({ _id: { $regex: /\|o:[0-9a-f]{24}$/ } } as Document)).toBe(23);
  const down = await restoreBackups(ctx({ direction: 'down' }), { collection: 'tokens' });
  expect(down).toMatchObject({ restored: 23, conflicts: 0 });
  expect(await collectionHash(t.db.collection<Document>('tokens'))).toBe(original);
});
