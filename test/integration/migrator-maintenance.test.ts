import path from 'node:path';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { BaselinedMigrationError, InvalidOptionError, MigrationNotFoundError, folderSource } from '@mongrate/core';
import { useTestDatabase, type TestDatabase } from '../support/database.js';
import { FIXTURES, testMigrator } from '../support/migrator.js';

const BASIC = path.join(FIXTURES, 'basic');
const FLIP = path.join(FIXTURES, 'flip');

/** Baseline and repair at the edges the adversarial pass found: other sources, a baselined `down`, a deleted file. */
describe('baseline and repair', () => {
  const database = useTestDatabase(import.meta.filename);
  let t: TestDatabase;
  beforeEach(() => {
    t = database();
  });
  const both = () => testMigrator(t, BASIC, { sources: [folderSource(FLIP), folderSource(BASIC)] });
  const records = () => t.db.collection('migrations').find({}, { sort: { _id: 1 } }).toArray();

  it('baseline marks only its own source, up to the named migration, even when another source comes first in run order', async () => {
    const m = both();
    expect(await m.pending()).toEqual(['flip/001_flip_tokens', 'basic/001_create_users', 'basic/002_add_wallets', 'basic/003_backfill_units']);
    const result = await m.baseline('basic/002_add_wallets', { reason: 'adopting' });
    expect(result).toEqual({ baselined: ['basic/001_create_users', 'basic/002_add_wallets'], alreadyApplied: [] });
    expect((await records()).map((r) => [r._id, r.status, r.baseline])).toEqual([
      ['basic/001_create_users', 'applied', true],
      ['basic/002_add_wallets', 'applied', true],
    ]);
    expect(await m.pending()).toEqual(['flip/001_flip_tokens', 'basic/003_backfill_units']);
  });

  it('down refuses a baselined migration (its up never ran here), writing nothing; repair --resolve pending unmarks it', async () => {
    const m = both();
    const first = 'basic/001_create_users';
    await m.baseline(first, { reason: 'adopting' });
    const before = await records();
    await expect(m.down()).rejects.toBeInstanceOf(BaselinedMigrationError);
    await expect(m.downPlan()).rejects.toBeInstanceOf(BaselinedMigrationError);
    await expect(m.down({ migration: first })).rejects.toBeInstanceOf(BaselinedMigrationError);
    expect(await records()).toEqual(before);
    await m.repair({ migration: first, resolve: 'pending', reason: 'was never applied by hand after all' });
    const [record] = await records();
    expect(record).toMatchObject({ _id: first, status: 'rolled_back' });
    expect(record?.baseline).toBeUndefined();
    expect(await m.pending()).toContain(first);
  });

  it('repair --resolve pending clears an applied migration whose file is gone (by its exact id); other repairs still need the file', async () => {
    await t.db.collection('tokens').insertMany([{ kind: 'k', status: 'unspent' }]);
    await testMigrator(t, FLIP).up();
    const withoutFlip = testMigrator(t, BASIC);
    expect((await withoutFlip.verify()).ok).toBe(false);
    await expect(withoutFlip.repair({ migration: 'flip/001_flip_tokens', resolve: 'applied', reason: 'x' })).rejects.toBeInstanceOf(MigrationNotFoundError);
    // No loaded source has its namespace: its file may only be left out, so the removal must be confirmed.
    const unconfirmed = withoutFlip.repair({ migration: 'flip/001_flip_tokens', resolve: 'pending', reason: 'the migration was removed from the code' });
    await expect(unconfirmed).rejects.toThrow(/No loaded source has the namespace "flip" of flip\/001_flip_tokens: .*the next `up` would run it again.*option `sourceRemoved`/);
    expect((await withoutFlip.verify()).ok).toBe(false);
    const repaired = await withoutFlip.repair({ migration: 'flip/001_flip_tokens', resolve: 'pending', reason: 'the migration was removed from the code', sourceRemoved: true });
    expect(repaired.resolved).toMatchObject({ id: 'flip/001_flip_tokens', from: 'applied', to: 'rolled_back' });
    expect((await withoutFlip.verify()).ok).toBe(true);
    // status lists the record whose file is gone, no longer as drift.
    const row = (await withoutFlip.status()).migrations.find((s) => s.id === 'flip/001_flip_tokens');
    expect(row).toMatchObject({ state: 'missing' });
    expect(row?.drift).toBeUndefined();
    expect((await withoutFlip.history({ limit: 1 }))[0]).toMatchObject({ migrationId: 'flip/001_flip_tokens', outcome: 'repaired', reason: 'the migration was removed from the code' });
  });
  it('repair --resolve refuses what would change nothing, and applied for a rolled-back migration, writing nothing; pending takes an applied one', async () => {
    const m = testMigrator(t, BASIC);
    await m.up();
    await m.down(); // 003 rolled_back; 001, 002 applied
    const before = await records();
    const historyBefore = await t.db.collection('migration_history').countDocuments();
    const refusals: Array<[string, 'applied' | 'pending', RegExp]> = [
      ['basic/002_add_wallets', 'applied', /basic\/002_add_wallets is applied already: there is nothing to resolve\. Nothing was changed/],
      ['basic/003_backfill_units', 'applied', /basic\/003_backfill_units is rolled_back: .*cannot be resolved as applied\. `up` applies it; if its change was made by hand, `baseline` records it.*Nothing was changed/s],
      ['basic/003_backfill_units', 'pending', /basic\/003_backfill_units is rolled_back, which counts as pending already: there is nothing to resolve\. Nothing was changed/],
    ];
    for (const [migration, resolve, message] of refusals) {
      const attempt = m.repair({ migration, resolve, reason: 'mistake' });
      await expect(attempt).rejects.toBeInstanceOf(InvalidOptionError);
      await expect(attempt).rejects.toThrow(message);
    }
    expect(await records()).toEqual(before);
    expect(await t.db.collection('migration_history').countDocuments()).toBe(historyBefore);
    // A plain `down` still reverts the newest applied one.
    expect((await m.down()).migrations.map((r) => r.id)).toEqual(['basic/002_add_wallets']);
    // An applied migration whose data was undone by hand is resolved as pending (its file is loaded).
    expect((await m.repair({ migration: 'basic/001_create_users', resolve: 'pending', reason: 'undone by hand' })).resolved).toMatchObject({ from: 'applied', to: 'rolled_back' });
  });

  it('repair --resolve applied of a failed down keeps its original appliedAt, so a plain down still picks the newest', async () => {
    const m = testMigrator(t, BASIC);
    await m.up();
    const first = 'basic/001_create_users';
    const original = (await records()).find((r) => String(r._id) === first)?.appliedAt as Date;
    expect(original).toBeInstanceOf(Date);
    // As a `down` that failed part-way leaves it (direct write: no fixture fails its down).
    await t.db.collection('migrations').updateOne({ _id: first as never }, { $set: { status: 'failed', direction: 'down', error: 'boom' } });
    const result = await m.repair({ migration: first, resolve: 'applied', reason: 'down undone by hand' });
    expect(result.resolved).toEqual({ id: first, from: 'failed', to: 'applied' });
    const record = (await records()).find((r) => String(r._id) === first);
    expect(record).toMatchObject({ status: 'applied', appliedAt: original });
    expect(record?.error).toBeUndefined();
    expect((await m.down()).migrations.map((r) => r.id)).toEqual(['basic/003_backfill_units']);
  });

  it('repair --resolve applied of a partly run up marks it applied now', async () => {
    const m = testMigrator(t, BASIC);
    await m.up();
    const last = 'basic/003_backfill_units';
    await t.db.collection('migrations').updateOne({ _id: last as never }, { $set: { status: 'applying', direction: 'up' }, $unset: { appliedAt: '' } });
    const result = await m.repair({ migration: last, resolve: 'applied', reason: 'finished by hand' });
    expect(result.resolved).toEqual({ id: last, from: 'applying', to: 'applied' });
    const record = (await records()).find((r) => String(r._id) === last);
    expect(record?.status).toBe('applied');
    expect(record?.appliedAt).toBeInstanceOf(Date);
    expect((await m.down()).migrations.map((r) => r.id)).toEqual([last]);
  });
});
