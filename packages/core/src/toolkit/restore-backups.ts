import { performance } from 'node:perf_hooks';
import type { AnyBulkWriteOperation, Document, Filter } from 'mongodb';
import {
  DEFAULT_BACKUP_COLLECTION,
  EXACT_READ,
  backupPrefix,
  backupRange,
  checkBatchSize,
  checkConcurrency,
  checkStep,
  exactMatch,
  holds,
  idKey,
  type BackupDocument,
} from './backup-document.js';
import { targetCollection, type ToolkitTarget } from './target.js';
import { forEachBatch } from './for-each-batch.js';
import { ConditionalUpdates, PipelineSupport } from './conditional-update.js';
import type { MigrationContext } from '../migration.js';
import { ServerClock } from '../server-clock.js';
import { assertMayContinue } from '../lock/migration-lock.js';
import { DUPLICATE_KEY, writeErrorsOf } from '../driver-errors.js';
import { loadStep, saveStep, stepKey } from './checkpoint.js';

/** How many conflicting documents a restore result lists (all are kept in the backup collection). */
export const MAX_LISTED_CONFLICTS = 100;

export interface RestoreBackupsOptions extends ToolkitTarget {
  /** Default: the migrator's `batchSize` (`DEFAULT_BATCH_SIZE`, 1000). */
  readonly batchSize?: number;
  /** Batches restored at once, checkpointed in order. Default: the migrator's `concurrency` (`DEFAULT_CONCURRENCY`, 2). */
  readonly concurrency?: number;
  /** Default `DEFAULT_BACKUP_COLLECTION` (`migration_backups`). */
  readonly backupCollection?: string;
  /** The `step` given to `backupAndUpdate`, if any. Default: none. */
  readonly step?: string;
}

/** A document that was not restored because it no longer holds what the migration wrote (or is gone). */
export interface RestoreConflict {
  readonly docId: unknown;
  readonly reason: 'changed' | 'deleted';
}

export interface RestoreBackupsResult {
  /** Documents put back to their before-values by this attempt and any it resumed. */
  readonly restored: number;
  /** Documents already at their before-values (a resumed restore, or targets an interrupted `up` never changed). */
  readonly alreadyRestored: number;
  /**
   * Documents that do not hold what the migration wrote, nor their before-values: changed since the migration wrote
   * them (or deleted), or changed by another writer right after this restore put them back (the counts cannot tell
   * the two apart). Not overwritten; their backups are kept, marked. Each document counts once:
   * `restored + alreadyRestored + conflicts` is the number of backups.
   */
  readonly conflicts: number;
  /** The first `MAX_LISTED_CONFLICTS` conflicts. */
  readonly conflictList: readonly RestoreConflict[];
  readonly batches: number;
  readonly resumed: boolean;
  readonly durationMs: number;
  readonly docsPerSecond: number;
}

/** What one batch's restore did. */
interface BatchRestored {
  readonly restored: number;
  readonly alreadyRestored: number;
  readonly conflicts: readonly RestoreConflict[];
}

interface RestoreCheckpoint {
  readonly kind: 'restore-backups';
  readonly restored: number;
  readonly alreadyRestored: number;
  readonly conflicts: number;
  readonly batches: number;
  /** `_id` of the last backup of the last checkpointed batch: a resumed restore scans only what comes after it, so no backup is counted twice. */
  readonly after?: string;
}

/**
 * Restores what `backupAndUpdate` saved, streaming the backups in batches: one unordered `bulkWrite` per batch puts
 * back the before-values of the fields the migration wrote (the keys of `set`), each only if the document still holds
 * exactly what the migration wrote there (each written field's value and top-level BSON type; a numeric type or form, or a
 * string turned into a symbol, changed deeper inside an object or array with the same value is not seen) → the rest
 * are classified → checkpoint; at the end the backups are deleted.
 * Backed-up fields the migration did not write are never touched. Idempotent, resumable, and correct after a partial
 * `up`. Conflicts are reported and never overwritten; their backups are kept under a `conflict|` id.
 */
export async function restoreBackups(ctx: MigrationContext, options: RestoreBackupsOptions): Promise<RestoreBackupsResult> {
  const collection = targetCollection(options);
  const batchSize = options.batchSize ?? ctx.batchSize;
  checkBatchSize(batchSize);
  const concurrency = options.concurrency ?? ctx.concurrency;
  checkConcurrency(concurrency);
  checkStep(options.step);
  const started = performance.now();
  const target = ctx.db.collection(collection);
  const backups = ctx.db.collection<BackupDocument>(options.backupCollection ?? DEFAULT_BACKUP_COLLECTION);
  const range = backupRange(backupPrefix(ctx.migration.id, collection, options.step));
  const key = stepKey('restore-backups', collection, options.step);
  const saved = loadStep<RestoreCheckpoint>(ctx.checkpoint, key, 'restore-backups');
  const resumed = saved !== undefined;
  let state: RestoreCheckpoint = saved ?? { kind: 'restore-backups', restored: 0, alreadyRestored: 0, conflicts: 0, batches: 0 };
  // Backups are scanned in `_id` order; a resume continues after the last checkpointed one.
  const remaining = state.after === undefined ? range : { $gt: state.after, $lt: range.$lt };
  // The progress total, only for someone who follows progress.
  const total = ctx.progressFollowed ? state.restored + state.alreadyRestored + state.conflicts + (await backups.countDocuments({ _id: remaining })) : undefined;
  const conflictList: RestoreConflict[] = [];
  const clock = new ServerClock(ctx.db);
  const guard = (): void => assertMayContinue(ctx.signal, ctx.lease);

  // Each document is put back only if it still holds exactly what the migration wrote: by a conditional update found
  // by `_id` (see `ConditionalUpdates`), or, on a server that refuses update pipelines, by that check as the query.
  const updates = new ConditionalUpdates();
  const pipelineSupport = new PipelineSupport((message, meta) => ctx.logger.warn(message, meta), guard);
  const write = (page: readonly BackupDocument[]): Promise<number> =>
    pipelineSupport.write(
      page.length,
      async () => {
        const operations = page.map((b) => {
          const { set, unset } = restoreOf(b);
          return updates.update(b.docId, b.after, [], set, unset);
        });
        return (await target.bulkWrite(operations, { ordered: false })).modifiedCount;
      },
      async () => {
        const operations: AnyBulkWriteOperation<Document>[] = page.map((b) => {
          const { set, unset } = restoreOf(b);
          return {
            updateOne: {
              filter: { _id: b.docId, ...exactMatch(b.after) } as Filter<Document>,
              update: { ...(Object.keys(set).length ? { $set: set } : {}), ...(unset.length ? { $unset: Object.fromEntries(unset.map((f) => [f, ''])) } : {}) },
            },
          };
        });
        return (await target.bulkWrite(operations, { ordered: false })).matchedCount;
      },
    );

  // Keyed by the rollback (its first attempt's time), not the process: a resumed rollback that redoes a finished but
  // uncheckpointed batch finds its copies there already, and parks none twice.
  const parkedPrefix = `conflict|${ctx.migration.runAt.getTime()}|`;
  const parkedId = (backup: BackupDocument) => `${parkedPrefix}${backup._id}`;
  // An earlier attempt of this rollback, cut short, may have parked copies in batches it never checkpointed (with
  // whatever batch size and concurrency it ran): this attempt redoes the batches up to the last such copy.
  const lastParked = await backups.findOne(
    { _id: { ...(state.after === undefined ? { $gte: parkedPrefix + range.$gte } : { $gt: parkedPrefix + state.after }), $lt: parkedPrefix + range.$lt } },
    { sort: { _id: -1 }, projection: { _id: 1 } },
  );
  const redoUpTo = lastParked?._id.slice(parkedPrefix.length);

  const work = async (page: BackupDocument[]): Promise<BatchRestored> => {
    const redo = redoUpTo !== undefined && (page[0] as BackupDocument)._id <= redoUpTo;
    const matchedCount = await write(page);
    let restored = matchedCount;
    let alreadyRestored = 0;
    const conflicts: Array<{ backup: BackupDocument; current: Document | null }> = [];
    if (matchedCount < page.length) {
      const fields = [...new Set(page.flatMap((b) => Object.keys(b.after)))];
      const current = await target
        .find({ _id: { $in: page.map((b) => b.docId) } } as Filter<Document>, { projection: Object.fromEntries(fields.map((f) => [f, 1])), ...EXACT_READ })
        .toArray();
      // Keyed by type: an ObjectId and the string of its hex are two documents.
      const byId = new Map(current.map((d) => [idKey(d._id), d]));
      let atBefore = 0;
      for (const backup of page) {
        const doc = byId.get(idKey(backup.docId)) ?? null;
        const { set, unset } = restoreOf(backup);
        if (doc && holds(doc, set, unset)) atBefore++;
        else conflicts.push({ backup, current: doc });
      }
      // Documents restored by this bulkWrite are also at their before-values now, unless another writer changed
      // them right after it: then fewer are at their before-values than were restored, and as many of the changed
      // ones were ours. Which ones cannot be told, so they all count (and are kept) as conflicts, and each document
      // counts once.
      restored = Math.min(matchedCount, atBefore);
      alreadyRestored = atBefore - restored;
    }
    if (conflicts.length > 0) {
      const at = await clock.now();
      // The cursor reads only what a restore needs; a conflict's copy keeps the whole backup.
      const whole = await backups.find({ _id: { $in: conflicts.map(({ backup }) => backup._id) } }, EXACT_READ).toArray();
      const byBackupId = new Map(whole.map((b) => [b._id, b]));
      guard();
      await backups
        .insertMany(
          conflicts.map(({ backup, current }) => ({
            // Found unless deleted meanwhile (the lease rules that out); then what is known of it.
            ...(byBackupId.get(backup._id) ?? { ...backup, migration: ctx.migration.id, collection, ...(options.step === undefined ? {} : { step: options.step }) }),
            _id: parkedId(backup),
            conflict: { at, runId: ctx.migration.runId, current },
          })),
          { ordered: false },
        )
        .catch((error: unknown) => {
          // A resumed batch: the copies exist already.
          if (!writeErrorsOf(error)?.every((e) => e.code === DUPLICATE_KEY)) throw error;
        });
      ctx.logger.warn('documents changed since the migration wrote them were not restored', { conflicts: conflicts.length });
    }
    if (redo) {
      // The first attempt may have parked a document that is no conflict now (the application put it back, or this
      // attempt restored it): its copy goes, so parked copies match the conflicts reported.
      const settled = new Set(conflicts.map(({ backup }) => backup._id));
      const stale = page.filter((b) => !settled.has(b._id));
      if (stale.length > 0) {
        guard();
        await backups.bulkWrite(stale.map((b) => ({ deleteOne: { filter: { _id: parkedId(b) } } })), { ordered: false });
      }
    }
    return { restored, alreadyRestored, conflicts: conflicts.map(({ backup, current }): RestoreConflict => ({ docId: backup.docId, reason: current ? 'changed' : 'deleted' })) };
  };

  /**
   * Called in `_id` order, one batch at a time, so `after` never passes a batch still being restored: a resume
   * continues after the last batch that finished, and every batch before it has finished too.
   */
  const commit = async (done: BatchRestored, page: BackupDocument[]): Promise<void> => {
    for (const conflict of done.conflicts) if (conflictList.length < MAX_LISTED_CONFLICTS) conflictList.push(conflict);
    state = {
      ...state,
      restored: state.restored + done.restored,
      alreadyRestored: state.alreadyRestored + done.alreadyRestored,
      conflicts: state.conflicts + done.conflicts.length,
      batches: state.batches + 1,
      after: String(page[page.length - 1]?._id),
    };
    await saveStep(ctx.checkpoint, key, state);
    const handled = state.restored + state.alreadyRestored + state.conflicts;
    ctx.progress({ phase: 'restore', done: handled, ...(total === undefined ? {} : { total }) });
  };

  // One streaming cursor in `_id` order: a single scan of the backups, read without type promotion so every value goes
  // back exactly as it was. They are deleted together at the end. A rerun after a crash continues after the last
  // checkpointed batch; documents of the batch the crash cut short are found restored and counted as such.
  await forEachBatch(backups.find({ _id: remaining }, { batchSize, sort: { _id: 1 }, projection: RESTORE_PROJECTION, ...EXACT_READ }), {
    batchSize,
    concurrency,
    beforeBatch: guard,
    work,
    commit,
  });
  guard();
  await backups.deleteMany({ _id: range });
  const durationMs = performance.now() - started;
  return {
    restored: state.restored,
    alreadyRestored: state.alreadyRestored,
    conflicts: state.conflicts,
    conflictList,
    batches: state.batches,
    resumed,
    durationMs: Math.round(durationMs),
    docsPerSecond: Math.round(state.restored / Math.max(durationMs / 1000, 0.001)),
  };
}

/** The fields of a backup that restoring it reads (less to send and to decode per document than the whole backup). */
const RESTORE_PROJECTION = { _id: 1, docId: 1, before: 1, missing: 1, after: 1 } as const;

/** What restoring a backup writes: the before-values of the fields the migration wrote, and nothing else. */
function restoreOf(backup: BackupDocument): { set: Record<string, unknown>; unset: string[] } {
  const set: Record<string, unknown> = {};
  const unset: string[] = [];
  for (const field of Object.keys(backup.after)) {
    if (field in backup.before) set[field] = backup.before[field];
    else if (backup.missing.includes(field)) unset.push(field);
  }
  return { set, unset };
}
