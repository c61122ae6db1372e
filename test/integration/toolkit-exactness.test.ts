import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { BSON, ObjectId, type Collection, type Document } from 'mongodb';
import { backupAndUpdate, restoreBackups, type BackupAndUpdateOptions } from '@mongrate/core';
import { collectionHash } from '../support/collection-hash.js';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { SimulatedCrash, interceptDb, toolkitContext, type CheckpointStore } from '../support/toolkit-context.js';

// The app's writes land in the windows between the toolkit's round trips: after a batch's backups are inserted
// (before its update), and right after its update. The hooks run there, deterministically.
const COLLECTION = 'tokens';
const BACKUPS = 'migration_backups';
const RUN_AT = new Date('2030-01-01T00:00:00Z');
const APP_DATE = new Date('2031-05-05T05:05:05Z');

const baseOptions = (extra: Partial<BackupAndUpdateOptions> = {}): BackupAndUpdateOptions => ({
  collection: COLLECTION,
  filter: { kind: 'k', status: 'unspent' },
  fields: ['status', 'spent_at'],
  set: { status: 'spent', spent_at: RUN_AT },
  ...extra,
});

// Each test runs on the three data-write paths: `conditional-update` (the default: each document's update is found by
// `_id` and re-checks the values read), `bulk-update` (the filter itself is the condition; taken for a filter whose
// outcome is not a function of field values, here one with `$expr`) and `fenced-merge` (through a lease document).
describe.each([['conditional-update'], ['bulk-update'], ['fenced-merge']] as const)('toolkit exactness (%s): down restores exactly what up overwrote', (path) => {
  let t: TestDatabase;
  let tokens: Collection<Document>;
  const fence = path === 'fenced-merge' ? { collection: 'migration_locks', name: 'migrations', fence: 'f'.repeat(24) } : undefined;
  // The same documents as `{ kind: 'k' }`, in a form the conditional update cannot pin to field values.
  const opaque = path === 'bulk-update' ? { filter: { $expr: { $eq: ['$kind', 'k'] }, status: 'unspent' } } : {};
  // The fence is opt-in (`fenced: true`): on this path every call asks for it.
  const options = (extra: Partial<BackupAndUpdateOptions> = {}) => baseOptions({ ...opaque, ...(fence ? { fenced: true } : {}), ...extra });
  /** The hook point right after a batch's data write, on this path. */
  const afterWrite = () => (fence ? { collection: fence.collection, method: 'aggregate' as const } : { collection: COLLECTION, method: 'bulkWrite' as const });
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
    tokens = t.db.collection(COLLECTION);
    if (fence) {
      await t.db.collection<Document>(fence.collection).insertOne({ _id: fence.name, fence: fence.fence, expiresAt: new Date(Date.now() + 3_600_000) } as Document);
    }
    await tokens.insertMany(
      Array.from({ length: 35 }, (_, i) => ({
        _id: new ObjectId(),
        kind: 'k',
        status: 'unspent',
        ...(i % 3 === 0 ? {} : { spent_at: i % 3 === 1 ? null : new Date(Date.UTC(2020, 0, i)) }),
        note: `n${i}`,
      })),
    );
  });
  afterEach(async () => {
    await t.drop();
  });

  // One batch in flight: each test puts an application write at one exact point of one batch ("after this batch's
  // backups, before its write"), which two batches in flight would make ambiguous. Concurrent batches are covered by
  // the 004 app-writes test, the crash sweep and test/unit/for-each-batch.test.ts; the per-batch logic is the same.
  const ctx = (extra: Parameters<typeof toolkitContext>[2] = {}) =>
    toolkitContext(t.db, t.client, { runAt: RUN_AT, concurrency: 1, ...(fence ? { serverFence: fence } : {}), ...extra });
  const down = () => restoreBackups(ctx({ direction: 'down' }), { collection: COLLECTION });
  /** The first `n` documents of the batch in flight: their backups exist, their update has not run yet. */
  const inFlight = async (n: number): Promise<ObjectId[]> =>
    (await t.db.collection(BACKUPS).find({}, { sort: { _id: 1 }, limit: n }).toArray()).map((b) => b.docId as ObjectId);
  /** sha256 of each document's raw BSON bytes, by `_id`. */
  const rawDocs = async (): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    for await (const raw of tokens.find({}, { raw: true })) {
      const bytes = raw as unknown as Uint8Array;
      out.set(String(BSON.deserialize(bytes)._id), createHash('sha256').update(bytes).digest('hex'));
    }
    return out;
  };
  /** Every document but `except` is byte for byte as in `seed`. */
  const expectSeedExcept = async (seed: Map<string, string>, except: readonly ObjectId[]): Promise<void> => {
    const now = await rawDocs();
    expect([...now.keys()].sort()).toEqual([...seed.keys()].sort());
    const skip = new Set(except.map(String));
    const differing = [...now].filter(([id, hash]) => !skip.has(id) && seed.get(id) !== hash).map(([id]) => id);
    expect(differing).toEqual([]);
  };

  it('a backup left by an interrupted batch is refreshed when the app changed the document before the rerun', async () => {
    const store: CheckpointStore = { value: undefined };
    const crashAfterBackups = interceptDb(t.db, [
      {
        collection: BACKUPS,
        method: 'insertMany',
        after: () => {
          throw new SimulatedCrash();
        },
      },
    ]);
    await expect(backupAndUpdate(ctx({ checkpoint: store, db: crashAfterBackups }), options())).rejects.toBeInstanceOf(SimulatedCrash);
    const [victim] = await inFlight(1);
    if (!victim) throw new Error('no backup was written before the crash');
    expect(await tokens.countDocuments({ status: 'spent' })).toBe(0);
    // The document still matches the filter; the app changes a backed-up field.
    await tokens.updateOne({ _id: victim }, { $set: { spent_at: APP_DATE } });
    const expected = await collectionHash(tokens);

    const up = await backupAndUpdate(ctx({ checkpoint: store }), options());
    expect(up).toMatchObject({ remaining: 0, updated: 35, backedUp: 35, resumed: false, writePath: path });
    expect((await t.db.collection(BACKUPS).findOne({ docId: victim }))?.before).toEqual({ status: 'unspent', spent_at: APP_DATE });

    const restored = await down();
    expect(restored).toMatchObject({ restored: 35, conflicts: 0 });
    expect(await tokens.findOne({ _id: victim })).toMatchObject({ status: 'unspent', spent_at: APP_DATE });
    expect(await collectionHash(tokens)).toBe(expected);
  });

  it('an app write between the read and the update is never lost: the update is conditioned on the backed-up values', async () => {
    const seed = await rawDocs();
    let victim: ObjectId | undefined;
    const appWrites = interceptDb(t.db, [
      {
        collection: BACKUPS,
        method: 'insertMany',
        after: async (call) => {
          if (call !== 1) return;
          [victim] = await inFlight(1);
          await tokens.updateOne({ _id: victim }, { $set: { spent_at: APP_DATE } });
        },
      },
    ]);
    const up = await backupAndUpdate(ctx({ db: appWrites }), options());
    if (!victim) throw new Error('the hook did not run');
    expect(up).toMatchObject({ remaining: 0, backedUp: 35 });
    // Flipped by a later pass, with the app's value as its before-value.
    expect(await tokens.findOne({ _id: victim })).toMatchObject({ status: 'spent', spent_at: RUN_AT });
    expect((await t.db.collection(BACKUPS).findOne({ docId: victim }))?.before).toEqual({ status: 'unspent', spent_at: APP_DATE });

    expect(await down()).toMatchObject({ conflicts: 0 });
    expect(await tokens.findOne({ _id: victim })).toMatchObject({ status: 'unspent', spent_at: APP_DATE });
    await expectSeedExcept(seed, [victim]);
  });

  it('a document written and then changed by the app in the same batch keeps its backup and is a conflict in down', async () => {
    let skippedId: ObjectId | undefined;
    let changedId: ObjectId | undefined;
    const appWrites = interceptDb(t.db, [
      {
        collection: BACKUPS,
        method: 'insertMany',
        after: async (call) => {
          if (call !== 1) return;
          [skippedId] = await inFlight(1);
          // Before our update: the document leaves the filter through a field that is not backed up.
          await tokens.updateOne({ _id: skippedId }, { $set: { kind: 'other' } });
        },
      },
      {
        ...afterWrite(),
        after: async (call) => {
          if (call !== 1) return;
          changedId = (await inFlight(2))[1];
          // After our update: the app changes a document we wrote.
          await tokens.updateOne({ _id: changedId }, { $set: { status: 'failed' } });
        },
      },
    ]);
    const up = await backupAndUpdate(ctx({ db: appWrites }), options());
    if (!skippedId || !changedId) throw new Error('the hooks did not run');
    expect(up).toMatchObject({ remaining: 0, skipped: 1, backedUp: 34 });
    expect(await t.db.collection(BACKUPS).countDocuments({ docId: changedId })).toBe(1);
    expect(await t.db.collection(BACKUPS).countDocuments({ docId: skippedId })).toBe(0);
    const skippedBefore = await tokens.findOne({ _id: skippedId });

    const restored = await down();
    expect(restored).toMatchObject({ restored: 33, conflicts: 1 });
    expect(restored.conflictList).toEqual([{ docId: changedId, reason: 'changed' }]);
    expect(await tokens.findOne({ _id: changedId })).toMatchObject({ status: 'failed', spent_at: RUN_AT });
    expect(await tokens.findOne({ _id: skippedId })).toEqual(skippedBefore);
  });

  it('when one document changes before the update and another right after it, neither is written by down and the written one is reported', async () => {
    let before: ObjectId | undefined;
    let after: ObjectId | undefined;
    const appWrites = interceptDb(t.db, [
      {
        collection: BACKUPS,
        method: 'insertMany',
        after: async (call) => {
          if (call !== 1) return;
          [before] = await inFlight(1);
          await tokens.updateOne({ _id: before }, { $set: { status: 'pending' } });
        },
      },
      {
        ...afterWrite(),
        after: async (call) => {
          if (call !== 1) return;
          after = (await inFlight(2))[1];
          await tokens.updateOne({ _id: after }, { $set: { status: 'failed' } });
        },
      },
    ]);
    const up = await backupAndUpdate(ctx({ db: appWrites }), options());
    if (!before || !after) throw new Error('the hooks did not run');
    expect(up.remaining).toBe(0);
    expect(await t.db.collection(BACKUPS).countDocuments({ docId: after })).toBe(1);
    const pending = await tokens.findOne({ _id: before });
    expect(pending?.status).toBe('pending');

    const restored = await down();
    expect(restored.conflictList.map((c) => String(c.docId))).toContain(String(after));
    expect(restored.restored).toBe(33);
    // Counts add up whichever way the never-written one was classed.
    expect(restored.conflicts).toBe(up.backedUp - 33);
    expect(await tokens.findOne({ _id: after })).toMatchObject({ status: 'failed', spent_at: RUN_AT });
    expect(await tokens.findOne({ _id: before })).toEqual(pending);
  });

  it('down restores only the fields up wrote: an app change to a backed-up but unwritten field is kept', async () => {
    const original = await collectionHash(tokens);
    const up = await backupAndUpdate(ctx(), options({ fields: ['status', 'spent_at', 'note'] }));
    expect(up).toMatchObject({ remaining: 0, backedUp: 35 });
    const doc = await tokens.findOne({ note: 'n4' });
    if (!doc) throw new Error('seed missing');
    await tokens.updateOne({ _id: doc._id }, { $set: { note: 'written by the app' } });

    expect(await down()).toMatchObject({ restored: 35, conflicts: 0 });
    expect(await tokens.findOne({ _id: doc._id })).toMatchObject({ status: 'unspent', note: 'written by the app' });
    await tokens.updateOne({ _id: doc._id }, { $set: { note: 'n4' } });
    expect(await collectionHash(tokens)).toBe(original);
  });

  it('an app change to a backed-up field that up does not write, between the read and the update, survives up and down', async () => {
    const seed = await rawDocs();
    let victim: ObjectId | undefined;
    const appWrites = interceptDb(t.db, [
      {
        collection: BACKUPS,
        method: 'insertMany',
        after: async (call) => {
          if (call !== 1) return;
          [victim] = await inFlight(1);
          await tokens.updateOne({ _id: victim }, { $set: { note: 'written by the app' } });
        },
      },
    ]);
    const up = await backupAndUpdate(ctx({ db: appWrites }), options({ fields: ['status', 'spent_at', 'note'] }));
    if (!victim) throw new Error('the hook did not run');
    expect(up).toMatchObject({ remaining: 0, backedUp: 35 });
    expect((await t.db.collection(BACKUPS).findOne({ docId: victim }))?.before).toMatchObject({ note: 'written by the app' });
    expect(await down()).toMatchObject({ restored: 35, conflicts: 0 });
    expect(await tokens.findOne({ _id: victim })).toMatchObject({ status: 'unspent', note: 'written by the app' });
    await expectSeedExcept(seed, [victim]);
  });

  it('a run stopped by its signal after a batch’s backups, then an app write, then a rerun: down restores the app’s value', async () => {
    const store: CheckpointStore = { value: undefined };
    const stop = new AbortController();
    const stopAfterBackups = interceptDb(t.db, [{ collection: BACKUPS, method: 'insertMany', after: () => stop.abort() }]);
    await expect(backupAndUpdate(ctx({ checkpoint: store, db: stopAfterBackups, signal: stop.signal }), options())).rejects.toMatchObject({ code: 'INTERRUPTED' });
    const [victim] = await inFlight(1);
    if (!victim) throw new Error('no backup was written before the stop');
    await tokens.updateOne({ _id: victim }, { $set: { spent_at: APP_DATE } });
    const seed = await rawDocs();
    expect(await backupAndUpdate(ctx({ checkpoint: store }), options())).toMatchObject({ remaining: 0, backedUp: 35 });
    expect(await down()).toMatchObject({ restored: 35, conflicts: 0 });
    await expectSeedExcept(seed, []);
  });

  it('a backup orphaned by an app write plus a crash before it is dropped is never written by down', async () => {
    const seed = await rawDocs();
    const store: CheckpointStore = { value: undefined };
    let orphan: ObjectId | undefined;
    const crashAfterUpdate = interceptDb(t.db, [
      {
        collection: BACKUPS,
        method: 'insertMany',
        after: async (call) => {
          if (call !== 1) return;
          [orphan] = await inFlight(1);
          await tokens.updateOne({ _id: orphan }, { $set: { status: 'pending' } });
        },
      },
      {
        ...afterWrite(),
        after: () => {
          throw new SimulatedCrash();
        },
      },
    ]);
    await expect(backupAndUpdate(ctx({ checkpoint: store, db: crashAfterUpdate }), options())).rejects.toBeInstanceOf(SimulatedCrash);
    if (!orphan) throw new Error('the hook did not run');
    expect(await t.db.collection(BACKUPS).countDocuments({ docId: orphan })).toBe(1);
    const up = await backupAndUpdate(ctx({ checkpoint: store }), options());
    expect(up.remaining).toBe(0);
    const asTheAppLeftIt = (await rawDocs()).get(String(orphan));

    const restored = await down();
    expect(restored.restored).toBe(34);
    expect(restored.conflicts + restored.alreadyRestored).toBeLessThanOrEqual(1);
    expect((await rawDocs()).get(String(orphan))).toBe(asTheAppLeftIt);
    expect(await tokens.findOne({ _id: orphan })).toMatchObject({ status: 'pending' });
    await expectSeedExcept(seed, [orphan]);
  });
});
