import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Binary, ObjectId, type Collection, type Document } from 'mongodb';
import { backupAndUpdate, restoreBackups, type BackupAndUpdateOptions } from '@mongrate/core';
import { collectionHash } from '../support/collection-hash.js';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { interceptDb, toolkitContext } from '../support/toolkit-context.js';

const COLLECTION = 'tokens';
const BACKUPS = 'migration_backups';
const RUN_AT = new Date('2030-03-03T00:00:00Z');

const options = (runAt: Date): BackupAndUpdateOptions => ({
  collection: COLLECTION,
  filter: { kind: 'k', status: 'unspent' },
  fields: ['status', 'spent_at'],
  set: { status: 'spent', spent_at: runAt },
});

describe('restoreBackups', () => {
  let t: TestDatabase;
  let tokens: Collection<Document>;
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
    tokens = t.db.collection(COLLECTION);
  });
  afterEach(async () => {
    await t.drop();
  });
  const ctx = (direction: 'up' | 'down', runAt = RUN_AT) => toolkitContext(t.db, t.client, { runAt, direction, batchSize: 10 });
  const seed = (n: number) =>
    tokens.insertMany(Array.from({ length: n }, (_, i) => ({ _id: new ObjectId(), kind: 'k', status: 'unspent', spent_at: i % 2 ? null : new Date(Date.UTC(2021, 0, i + 1)), i })));

  it('keys documents by type: a deleted document is a conflict even when another id of another type prints the same', async () => {
    const oid = new ObjectId();
    const date = new Date('2024-04-04T04:04:04.000Z');
    const bin = new Binary(Buffer.from('mongrate-binary!'), 0);
    const ids: unknown[] = [oid, oid.toHexString(), date, date.toISOString(), bin, Buffer.from('mongrate-binary!').toString('base64')];
    await tokens.insertMany(ids.map((_id) => ({ _id, kind: 'k', status: 'unspent', spent_at: null })) as Document[]);
    expect(await backupAndUpdate(ctx('up'), options(RUN_AT))).toMatchObject({ backedUp: 6, remaining: 0 });
    // The app deletes the documents whose ids are not strings.
    await tokens.deleteMany({ _id: { $in: [oid, date, bin] } } as Document);

    const down = await restoreBackups(ctx('down'), { collection: COLLECTION });
    expect(down).toMatchObject({ restored: 3, alreadyRestored: 0, conflicts: 3 });
    expect(down.conflictList.map((c) => c.reason)).toEqual(['deleted', 'deleted', 'deleted']);
    expect(await t.db.collection(BACKUPS).countDocuments({ 'conflict.current': null })).toBe(3);
  });

  it('a rollback resumed after a crash parks each conflicting document once, whichever batches it redoes', async () => {
    await seed(40);
    await backupAndUpdate(ctx('up'), options(RUN_AT));
    // The app changes 12 documents spread over every batch.
    await tokens.updateMany({ i: { $in: [0, 3, 6, 9, 13, 17, 21, 25, 29, 33, 36, 39] } }, { $set: { status: 'failed' } });
    // The first attempt restores every batch but its checkpoints stop being saved after the first (a crash right
    // after the writes, as a kill -9 lands); the second attempt, another process with the same rollback, redoes them.
    const store = { value: undefined as unknown };
    let saves = 0;
    const crashing = toolkitContext(t.db, t.client, { runAt: RUN_AT, direction: 'down', batchSize: 10, checkpoint: store });
    const first = {
      ...crashing,
      checkpoint: {
        load: crashing.checkpoint.load,
        save: async (value: unknown) => {
          if (++saves > 1) throw new Error('simulated crash');
          await crashing.checkpoint.save(value);
        },
      },
    };
    await expect(restoreBackups(first, { collection: COLLECTION })).rejects.toThrow('simulated crash');
    const resumed = await restoreBackups(toolkitContext(t.db, t.client, { runAt: RUN_AT, direction: 'down', batchSize: 10, checkpoint: store }), { collection: COLLECTION });
    expect(resumed.resumed).toBe(true);
    const copies = await t.db.collection(BACKUPS).find({ _id: { $gte: 'conflict|', $lt: 'conflict}' } } as Document).toArray();
    expect(copies).toHaveLength(12);
    expect(new Set(copies.map((c) => String(c.docId))).size).toBe(12);
  });

  it('a document the app changes right after the restore put it back counts once, as a conflict, and keeps the app’s write', async () => {
    await seed(10);
    await backupAndUpdate(ctx('up'), options(RUN_AT));
    // One true conflict, so the batch is read back after its write.
    await tokens.updateOne({ i: 0 }, { $set: { status: 'failed' } });
    // The app writes two documents the restore has just put back, before the restore reads the batch back.
    const db = interceptDb(t.db, [{ collection: COLLECTION, method: 'bulkWrite', after: async () => void (await tokens.updateMany({ i: { $in: [4, 7] } }, { $set: { status: 'app' } })) }]);
    const down = await restoreBackups(toolkitContext(t.db, t.client, { runAt: RUN_AT, direction: 'down', batchSize: 10, db }), { collection: COLLECTION });
    expect(down).toMatchObject({ restored: 7, alreadyRestored: 0, conflicts: 3 });
    expect(down.restored + down.alreadyRestored + down.conflicts).toBe(10);
    expect((await tokens.find({ status: 'app' }, { sort: { i: 1 } }).toArray()).map((d) => d.i)).toEqual([4, 7]);
    expect(await tokens.countDocuments({ status: 'unspent' })).toBe(7);
    expect(await t.db.collection(BACKUPS).countDocuments({ conflict: { $exists: true } })).toBe(3);
  });

  it.each([
    ['resumed after its checkpoint of the first batch', 1, true],
    ['run again after dying before any checkpoint', 0, false],
  ])('a rollback %s drops a parked copy whose document is no conflict any more, so copies match the conflicts reported', async (_, saved, resumes) => {
    await seed(20);
    const before = await tokens.find({}, { sort: { i: 1 } }).toArray();
    await backupAndUpdate(ctx('up'), options(RUN_AT));
    await tokens.updateMany({ i: { $in: [3, 15] } }, { $set: { status: 'failed' } });
    // The first attempt restores both batches, parks i=3 and i=15, and dies after `saved` checkpoints.
    const store = { value: undefined as unknown };
    const crashing = toolkitContext(t.db, t.client, { runAt: RUN_AT, direction: 'down', batchSize: 10, checkpoint: store });
    let saves = 0;
    const save = async (value: unknown) => (saves++ < saved ? crashing.checkpoint.save(value) : Promise.reject(new Error('simulated crash')));
    await expect(restoreBackups({ ...crashing, checkpoint: { load: crashing.checkpoint.load, save } }, { collection: COLLECTION })).rejects.toThrow('simulated crash');
    expect(await t.db.collection(BACKUPS).countDocuments({ conflict: { $exists: true } })).toBe(2);
    // Then the application puts i=15 back as it was before up.
    const doc15 = before[15];
    if (!doc15) throw new Error('seed missing');
    await tokens.updateOne({ i: 15 }, { $set: { status: doc15.status, spent_at: doc15.spent_at } });
    const again = await restoreBackups(toolkitContext(t.db, t.client, { runAt: RUN_AT, direction: 'down', batchSize: 10, checkpoint: store }), { collection: COLLECTION });
    expect(again).toMatchObject({ resumed: resumes, conflicts: 1 });
    expect(again.restored + again.alreadyRestored + again.conflicts).toBe(20);
    const parked = await t.db.collection(BACKUPS).find({ conflict: { $exists: true } }).toArray();
    expect(parked.map((p) => p.docId)).toEqual([before[3]?._id]);
  });

  it('a rollback run again with a smaller batch size and concurrency still drops every stale parked copy of the attempt it redoes', async () => {
    await seed(40);
    const before = await tokens.find({}, { sort: { i: 1 } }).toArray();
    await backupAndUpdate(ctx('up'), options(RUN_AT));
    await tokens.updateMany({ i: { $in: [25, 35] } }, { $set: { status: 'failed' } });
    // Batches of 10, two in flight: the first two are checkpointed, then the attempt dies with 25 and 35 parked.
    const store = { value: undefined as unknown };
    const crashing = toolkitContext(t.db, t.client, { runAt: RUN_AT, direction: 'down', batchSize: 10, concurrency: 2, checkpoint: store });
    let saves = 0;
    const save = async (value: unknown) => (saves++ < 2 ? crashing.checkpoint.save(value) : Promise.reject(new Error('simulated crash')));
    await expect(restoreBackups({ ...crashing, checkpoint: { load: crashing.checkpoint.load, save } }, { collection: COLLECTION })).rejects.toThrow('simulated crash');
    expect(await t.db.collection(BACKUPS).countDocuments({ conflict: { $exists: true } })).toBe(2);
    // The application puts both back; the rerun reads batches of 5, one at a time.
    for (const i of [25, 35]) await tokens.updateOne({ i }, { $set: { status: before[i]?.status, spent_at: before[i]?.spent_at } });
    const again = await restoreBackups(toolkitContext(t.db, t.client, { runAt: RUN_AT, direction: 'down', batchSize: 5, concurrency: 1, checkpoint: store }), { collection: COLLECTION });
    expect(again).toMatchObject({ resumed: true, conflicts: 0 });
    expect(again.restored + again.alreadyRestored).toBe(40);
    expect(await t.db.collection(BACKUPS).countDocuments({ conflict: { $exists: true } })).toBe(0);
  });

  it('conflict copies carry the server’s time, not the local clock', async () => {
    await seed(12);
    await backupAndUpdate(ctx('up'), options(RUN_AT));
    await tokens.updateOne({ i: 3 }, { $set: { status: 'failed' } });
    const changed = await tokens.findOne({ i: 3 });
    const original = await t.db.collection(BACKUPS).findOne({ docId: changed?._id });
    const serverTime = async () => (await t.db.command({ hello: 1 })).localTime as Date;
    const from = await serverTime();
    // The local clock says 2001; the server's says now.
    jest.useFakeTimers({
      now: new Date('2001-01-01T00:00:00Z'),
      doNotFake: ['hrtime', 'nextTick', 'performance', 'queueMicrotask', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval', 'setTimeout', 'clearTimeout'],
    });
    let down;
    try {
      down = await restoreBackups(ctx('down'), { collection: COLLECTION });
    } finally {
      jest.useRealTimers();
    }
    const to = await serverTime();
    expect(down.conflicts).toBe(1);
    const copy = await t.db.collection(BACKUPS).findOne({ conflict: { $exists: true } });
    const at = (copy?.conflict as { at: Date }).at;
    // Within a minute of the server's clock (the fake local clock is 25 years off).
    expect(at.getTime()).toBeGreaterThanOrEqual(from.getTime() - 60_000);
    expect(at.getTime()).toBeLessThanOrEqual(to.getTime() + 60_000);
    // The copy keeps the whole backup, though the restore reads only part of each.
    expect(original).not.toBeNull();
    const { _id: copyId, conflict, ...kept } = copy as Document;
    const { _id: originalId, ...whole } = original as Document;
    expect([copyId, conflict, originalId]).not.toContain(undefined);
    expect(kept).toEqual(whole);
    expect(Object.keys(kept)).toEqual(expect.arrayContaining(['migration', 'collection', 'docId', 'before', 'missing', 'after', 'createdAt']));
  });

  it('after a restore conflict and a later up, a second down restores the later before-values; the parked copy stays', async () => {
    await seed(35);
    const first = await tokens.find({}, { sort: { i: 1 } }).toArray();
    const doc = first[7];
    if (!doc) throw new Error('seed missing');
    await backupAndUpdate(ctx('up'), options(RUN_AT));
    await tokens.updateOne({ _id: doc._id }, { $set: { status: 'failed' } });
    const down1 = await restoreBackups(ctx('down'), { collection: COLLECTION });
    expect(down1).toMatchObject({ restored: 34, conflicts: 1 });
    expect(await t.db.collection(BACKUPS).countDocuments({ conflict: { $exists: true } })).toBe(1);

    // The app makes the document a target again, with values of its own; a later up flips it again.
    const appDate = new Date('2032-02-02T00:00:00Z');
    await tokens.updateOne({ _id: doc._id }, { $set: { status: 'unspent', spent_at: appDate } });
    const expected = await collectionHash(tokens);
    const runAt2 = new Date(RUN_AT.getTime() + 86_400_000);
    expect(await backupAndUpdate(ctx('up', runAt2), options(runAt2))).toMatchObject({ backedUp: 35, remaining: 0 });
    const down2 = await restoreBackups(ctx('down', runAt2), { collection: COLLECTION });
    expect(down2).toMatchObject({ restored: 35, conflicts: 0, alreadyRestored: 0 });
    expect(await tokens.findOne({ _id: doc._id })).toMatchObject({ status: 'unspent', spent_at: appDate });
    expect(await collectionHash(tokens)).toBe(expected);
    // The first down's parked copy is untouched: still the original before-values, marked as a conflict.
    const parked = await t.db.collection(BACKUPS).find({ conflict: { $exists: true } }).toArray();
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({ docId: doc._id, before: { status: 'unspent', spent_at: doc.spent_at } });
  });
});
