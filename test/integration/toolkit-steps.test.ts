import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ObjectId, type Collection, type Document } from 'mongodb';
import { InvalidOptionError, backupAndUpdate, restoreBackups, type BackupAndUpdateOptions, type RestoreBackupsOptions } from '@mongrate/core';
import { collectionHash } from '../support/collection-hash.js';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { toolkitContext, type CheckpointStore } from '../support/toolkit-context.js';

const COLLECTION = 'orders';
const RUN_AT = new Date('2030-02-02T00:00:00Z');

describe('two backupAndUpdate steps on one collection in one migration', () => {
  let t: TestDatabase;
  let orders: Collection<Document>;
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
    orders = t.db.collection(COLLECTION);
    await orders.insertMany(
      Array.from({ length: 25 }, (_, i) => ({ _id: new ObjectId(), state: i % 5 === 0 ? 'other' : 'a', stage: i, ...(i % 2 ? { at: new Date(Date.UTC(2020, 1, i)) } : {}) })),
    );
  });
  afterEach(async () => {
    await t.drop();
  });

  // Step one moves state a → b; step two moves every b (the ones step one wrote) → c and stamps `at`.
  const stepOne = { collection: COLLECTION, filter: { state: 'a' }, fields: ['state'], set: { state: 'b' }, step: 'one' };
  const stepTwo = { collection: COLLECTION, filter: { state: 'b' }, fields: ['state', 'at'], set: { state: 'c', at: RUN_AT }, step: 'two' };
  const ctx = (direction: 'up' | 'down', checkpoint?: CheckpointStore) => toolkitContext(t.db, t.client, { runAt: RUN_AT, direction, batchSize: 4, ...(checkpoint ? { checkpoint } : {}) });

  it('keeps each step’s backups apart, and down in reverse order restores the seed exactly', async () => {
    const original = await collectionHash(orders);
    const up = ctx('up');
    const one = await backupAndUpdate(up, stepOne as BackupAndUpdateOptions);
    const two = await backupAndUpdate(up, stepTwo as BackupAndUpdateOptions);
    expect(one).toMatchObject({ updated: 20, backedUp: 20, remaining: 0 });
    expect(two).toMatchObject({ updated: 20, backedUp: 20, remaining: 0, resumed: false });
    expect(await orders.countDocuments({ state: 'c', at: RUN_AT })).toBe(20);

    const down = ctx('down');
    const undoTwo = await restoreBackups(down, { collection: COLLECTION, step: 'two' } as RestoreBackupsOptions);
    const undoOne = await restoreBackups(down, { collection: COLLECTION, step: 'one' } as RestoreBackupsOptions);
    expect(undoTwo).toMatchObject({ restored: 20, conflicts: 0 });
    expect(undoOne).toMatchObject({ restored: 20, conflicts: 0 });
    expect(await collectionHash(orders)).toBe(original);
    expect(await t.db.collection('migration_backups').countDocuments()).toBe(0);
  });

  it('a crash in the second step resumes both steps with their own checkpoints', async () => {
    const original = await collectionHash(orders);
    const store: CheckpointStore = { value: undefined };
    const first = ctx('up', store);
    await backupAndUpdate(first, stepOne as BackupAndUpdateOptions);
    const abort = new AbortController();
    const interrupted = toolkitContext(t.db, t.client, { runAt: RUN_AT, batchSize: 4, checkpoint: store });
    // Step two of the same attempt, stopped after its first batch.
    const stopping = { ...interrupted, checkpoint: { ...interrupted.checkpoint, load: first.checkpoint.load, save: async (v: unknown) => {
      await interrupted.checkpoint.save(v);
      abort.abort();
    } }, signal: abort.signal };
    await expect(backupAndUpdate(stopping, stepTwo as BackupAndUpdateOptions)).rejects.toMatchObject({ code: 'INTERRUPTED' });

    const rerun = ctx('up', store);
    const one = await backupAndUpdate(rerun, stepOne as BackupAndUpdateOptions);
    const two = await backupAndUpdate(rerun, stepTwo as BackupAndUpdateOptions);
    expect(one).toMatchObject({ updated: 20, backedUp: 20, remaining: 0 });
    expect(two).toMatchObject({ updated: 20, backedUp: 20, remaining: 0, resumed: true });

    const down = ctx('down');
    await restoreBackups(down, { collection: COLLECTION, step: 'two' } as RestoreBackupsOptions);
    await restoreBackups(down, { collection: COLLECTION, step: 'one' } as RestoreBackupsOptions);
    expect(await collectionHash(orders)).toBe(original);
  });

  it('a second step on the same collection without its own step name is refused before it writes', async () => {
    const up = ctx('up');
    await backupAndUpdate(up, { ...stepOne, step: undefined } as BackupAndUpdateOptions);
    const backups = await t.db.collection('migration_backups').countDocuments();
    const hash = await collectionHash(orders);
    const error = await backupAndUpdate(up, { ...stepTwo, step: undefined } as BackupAndUpdateOptions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(/step/);
    expect(await collectionHash(orders)).toBe(hash);
    expect(await t.db.collection('migration_backups').countDocuments()).toBe(backups);
  });

  it('rejects a step name that could collide with another step’s backups', async () => {
    const error = await backupAndUpdate(ctx('up'), { ...stepOne, step: 'a|b' } as BackupAndUpdateOptions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(await orders.countDocuments({ state: 'b' })).toBe(0);
  });
});
