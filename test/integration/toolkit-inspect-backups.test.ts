import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ObjectId, type Collection, type Document } from 'mongodb';
import { backupAndUpdate, inspectBackups, restoreBackups, type BackupAndUpdateOptions } from '@mongrate/core';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { toolkitContext } from '../support/toolkit-context.js';

const RUN_AT = new Date('2030-01-01T00:00:00Z');
const ID = 'test/001_toolkit';
const options: BackupAndUpdateOptions = {
  collection: 'tokens',
  filter: { kind: 'k', status: 'unspent' },
  fields: ['status', 'spent_at'],
  set: { status: 'spent', spent_at: RUN_AT },
};

describe('inspectBackups', () => {
  let t: TestDatabase;
  let tokens: Collection<Document>;
  let ids: ObjectId[];
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
    tokens = t.db.collection('tokens');
    ids = Array.from({ length: 20 }, () => new ObjectId());
    await tokens.insertMany(ids.map((_id, i) => ({ _id, kind: 'k', status: 'unspent', ...(i % 2 ? { spent_at: null } : {}) })));
  });
  afterEach(async () => {
    await t.drop();
  });
  const ctx = (direction: 'up' | 'down' = 'up') => toolkitContext(t.db, t.client, { runAt: RUN_AT, direction, id: ID });

  it('counts live backups, parked conflicts and orphaned backups of one migration', async () => {
    expect(await inspectBackups(t.db, { migrationId: ID })).toEqual({ live: 0, conflicts: 0, orphaned: 0, byCollection: {} });
    await backupAndUpdate(ctx(), options);
    expect(await inspectBackups(t.db, { migrationId: ID })).toMatchObject({ live: 20, conflicts: 0, orphaned: 0 });

    // The app changes a flipped document; down parks its backup as a conflict.
    const [a, b, c] = ids as [ObjectId, ObjectId, ObjectId];
    await tokens.updateOne({ _id: a }, { $set: { status: 'failed' } });
    expect(await inspectBackups(t.db, { migrationId: ID })).toMatchObject({ live: 20, conflicts: 0, orphaned: 1 });
    expect(await restoreBackups(ctx('down'), { collection: 'tokens' })).toMatchObject({ conflicts: 1 });
    expect(await inspectBackups(t.db, { migrationId: ID })).toMatchObject({ live: 0, conflicts: 1, orphaned: 0 });

    // A later up flips the others again; then the app changes one of them, and deletes another.
    await backupAndUpdate(ctx(), options);
    await tokens.updateOne({ _id: b }, { $set: { spent_at: new Date('2031-01-01T00:00:00Z') } });
    await tokens.deleteOne({ _id: c });
    const report = await inspectBackups(t.db, { migrationId: ID });
    expect(report).toEqual({ live: 19, conflicts: 1, orphaned: 2, byCollection: { tokens: { live: 19, conflicts: 1, orphaned: 2 } } });
    // Another migration's backups are not counted.
    expect(await inspectBackups(t.db, { migrationId: 'other/002' })).toMatchObject({ live: 0, conflicts: 0, orphaned: 0 });
  });
});
