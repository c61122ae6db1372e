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
});
