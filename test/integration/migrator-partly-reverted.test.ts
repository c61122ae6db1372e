import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PartlyRevertedError } from '@mongrate/core';
import { seedSampleData } from '@nctool/cashu-models/sample-data';
import { collectionHash } from '../support/collection-hash.js';
import { openTestDatabase, serverUri, type TestDatabase } from '../support/database.js';
import { killAtBatch } from '../support/kill-at-batch.js';
import { NCTOOL_MIGRATIONS, testMigrator } from '../support/migrator.js';

const ID = 'nctool/004_fix_melted_token_status';

describe('up after a rollback that was cut short', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
  });
  afterEach(async () => {
    await t.drop();
  });

  it('refuses, naming the migration and the way out, instead of calling the database up to date; then down and up finish', async () => {
    await seedSampleData(t.db, { tokens: 2000, seed: 41 });
    const tokens = t.db.collection('cashu_tokens');
    const original = await collectionHash(tokens);
    const m = testMigrator(t, NCTOOL_MIGRATIONS, { leaseMs: 5000, lockPollMs: 100, batchSize: 10 });
    await m.up();
    const { killed } = await killAtBatch({ uri: serverUri(), dbName: t.name, dir: NCTOOL_MIGRATIONS, direction: 'down', batchSize: 10, leaseMs: 5000, afterBatches: 2 });
    expect(killed).toBe(true);
    const before = await collectionHash(tokens);
    const refused = await m.up().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PartlyRevertedError);
    expect((refused as Error).message).toContain(`Migration ${ID} is partly reverted`);
    expect(await collectionHash(tokens)).toBe(before);
    expect((await t.db.collection('migrations').findOne({ _id: ID as never }))?.status).toBe('reverting');
    // The way out the message names: finish the rollback, then up applies it again.
    await m.down({ migration: ID });
    expect(await collectionHash(tokens)).toBe(original);
    const again = await m.up();
    expect(again.migrations.map((x) => x.id)).toEqual([ID]);
  });

  it('up of that migration by name re-applies it exactly (the other way out); a plain up still refuses', async () => {
    await seedSampleData(t.db, { tokens: 2000, seed: 42 });
    const tokens = t.db.collection('cashu_tokens');
    const original = await collectionHash(tokens);
    const m = testMigrator(t, NCTOOL_MIGRATIONS, { leaseMs: 5000, lockPollMs: 100, batchSize: 10 });
    const first = await m.up();
    const flipped = first.migrations[0]?.counts?.flipped;
    const applied = await collectionHash(tokens);
    const { killed } = await killAtBatch({ uri: serverUri(), dbName: t.name, dir: NCTOOL_MIGRATIONS, direction: 'down', batchSize: 10, leaseMs: 5000, afterBatches: 2 });
    expect(killed).toBe(true);
    await expect(m.up()).rejects.toBeInstanceOf(PartlyRevertedError);
    const again = await m.up({ migration: ID });
    expect(again.migrations.map((x) => x.id)).toEqual([ID]);
    // Every target holds what up writes again (the same runAt: the record's first attempt in this direction is new,
    // so compare the targets' status, not the hash), with one backup per flipped token.
    expect(await tokens.countDocuments({ transaction_type: 'melted', status: 'unspent' })).toBe(0);
    expect(await t.db.collection('migration_backups').countDocuments({ migration: ID })).toBe(flipped);
    expect((await t.db.collection('migrations').findOne({ _id: ID as never }))?.status).toBe('applied');
    expect(applied).not.toBe(original);
    await m.down();
    expect(await collectionHash(tokens)).toBe(original);
  });
});
