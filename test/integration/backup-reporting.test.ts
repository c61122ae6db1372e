import path from 'node:path';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { ObjectId, type Collection, type Document } from 'mongodb';
import { useTestDatabase, type TestDatabase } from '../support/database.js';
import { FIXTURES, testMigrator } from '../support/migrator.js';

const FLIP = path.join(FIXTURES, 'flip');
const ID = 'flip/001_flip_tokens';

/** Issue 12 §3: `status`, `history` and `verify` tell the operator about parked conflicts and orphaned backups. */
describe('backups in status, history and verify', () => {
  const database = useTestDatabase(import.meta.filename);
  let t: TestDatabase;
  let tokens: Collection<Document>;
  const ids = Array.from({ length: 20 }, () => new ObjectId());
  beforeEach(async () => {
    t = database();
    tokens = t.db.collection('tokens');
    await tokens.insertMany(ids.map((_id, i) => ({ _id, kind: 'k', status: 'unspent', amount: i })));
  });

  it('a rollback that parks conflicts: status names them, history counts them, verify counts them; a later up and down restore the later before-values', async () => {
    const m = testMigrator(t, FLIP);
    expect((await m.up()).migrations[0]?.counts).toEqual({ flipped: 20 });
    // The application changes three flipped tokens after `up`.
    await tokens.updateMany({ _id: { $in: ids.slice(0, 3) } }, { $set: { status: 'pending', note: 'app' } });
    expect((await m.verify()).backups).toEqual([{ migrationId: ID, state: 'applied', live: 20, conflicts: 0, orphaned: 3 }]);

    expect((await m.down()).migrations[0]?.counts).toEqual({ restored: 17, alreadyRestored: 0, conflicts: 3 });
    const status = await m.status();
    expect(status.migrations.find((s) => s.id === ID)).toMatchObject({ state: 'rolled_back', parkedConflicts: 3 });
    expect((await m.history({ limit: 1 }))[0]).toMatchObject({ migrationId: ID, outcome: 'rolled_back', counts: { conflicts: 3 } });
    expect((await m.verify()).backups).toEqual([{ migrationId: ID, state: 'rolled_back', live: 0, conflicts: 3, orphaned: 0 }]);
    expect(await tokens.countDocuments({ status: 'pending', note: 'app' })).toBe(3);

    // The application puts them back to unspent (with a new amount; spent_at stays from the first run); a later up
    // flips them again with fresh backups, and the second down restores exactly what that up overwrote.
    await tokens.updateMany({ _id: { $in: ids.slice(0, 3) } }, { $set: { status: 'unspent', amount: 99 }, $unset: { note: '' } });
    const beforeSecondUp = await tokens.find({}, { sort: { _id: 1 } }).toArray();
    expect((await m.up()).migrations[0]?.counts).toEqual({ flipped: 20 });
    expect((await m.down()).migrations[0]?.counts).toEqual({ restored: 20, alreadyRestored: 0, conflicts: 0 });
    expect(await tokens.find({}, { sort: { _id: 1 } }).toArray()).toEqual(beforeSecondUp);
    expect(beforeSecondUp.filter((d) => d.amount === 99 && d.status === 'unspent' && d.spent_at instanceof Date)).toHaveLength(3);
    // The parked copies of the first rollback stay, and stay reported.
    expect((await m.status()).migrations.find((s) => s.id === ID)?.parkedConflicts).toBe(3);
  });

  it('live backups left after a rollback are reported with the record rolled back', async () => {
    const m = testMigrator(t, FLIP);
    await m.up();
    await m.down();
    // What a stale writer (or a cut-short cleanup) leaves: a live backup of a migration that is rolled back.
    await t.db.collection('migration_backups').insertOne({ _id: `${ID}|tokens|o:${ids[0]!.toHexString()}` as unknown as ObjectId, migration: ID, collection: 'tokens', docId: ids[0], before: { status: 'unspent' }, missing: ['spent_at'], after: { status: 'spent' }, createdAt: new Date() });
    expect((await m.verify()).backups).toEqual([{ migrationId: ID, state: 'rolled_back', live: 1, conflicts: 0, orphaned: 1 }]);
    expect((await m.status()).migrations.find((s) => s.id === ID)?.parkedConflicts).toBeUndefined();
  });
});
