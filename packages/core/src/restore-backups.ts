import { performance } from 'node:perf_hooks';
import { MongoBulkWriteError, type AnyBulkWriteOperation, type Document, type Filter } from 'mongodb';
import {
  DEFAULT_BACKUP_COLLECTION,
  backupPrefix,
  backupRange,
  checkBatchSize,
  sameValue,
  type BackupDocument,
} from './backup-document.js';
import { InterruptedError } from './errors.js';
import { forEachBatch } from './for-each-batch.js';
import type { MigrationContext } from './migration.js';

/** How many conflicting documents a restore result lists (all are kept in the backup collection). */
export const MAX_LISTED_CONFLICTS = 100;

export interface RestoreBackupsOptions {
  /** The collection whose backups to restore. */
  readonly collection: string;
  /** Default: the migrator's `batchSize` (`DEFAULT_BATCH_SIZE`, 1000). */
  readonly batchSize?: number;
  /** Default `DEFAULT_BACKUP_COLLECTION` (`migration_backups`). */
  readonly backupCollection?: string;
}

/** A document that was not restored because it no longer holds what the migration wrote. */
export interface RestoreConflict {
  readonly docId: unknown;
  readonly reason: 'changed' | 'deleted';
}

export interface RestoreBackupsResult {
  /** Documents put back to their before-values by this attempt and any it resumed. */
  readonly restored: number;
  /** Documents already at their before-values (a resumed restore, or targets an interrupted `up` never changed). */
  readonly alreadyRestored: number;
  /** Documents changed since the migration wrote them: not overwritten; their backups are kept, marked. */
  readonly conflicts: number;
  /** The first `MAX_LISTED_CONFLICTS` conflicts. */
  readonly conflictList: readonly RestoreConflict[];
  readonly batches: number;
  readonly resumed: boolean;
  readonly durationMs: number;
  readonly docsPerSecond: number;
}

interface RestoreCheckpoint {
  readonly kind: 'restore-backups';
  readonly restored: number;
  readonly alreadyRestored: number;
  readonly conflicts: number;
  readonly batches: number;
}

/**
 * Restores what `backupAndUpdate` saved, streaming the backups in batches: one unordered `bulkWrite` per batch
 * restores each document only if it still holds the values the migration wrote → the rest are classified →
 * checkpoint; at the end the backups are deleted. Idempotent, resumable, and correct after a partial `up`.
 * Conflicts are reported and never overwritten; their backups are kept under a `conflict|` id.
 */
export async function restoreBackups(ctx: MigrationContext, options: RestoreBackupsOptions): Promise<RestoreBackupsResult> {
  const batchSize = options.batchSize ?? ctx.batchSize;
  checkBatchSize(batchSize);
  const started = performance.now();
  const target = ctx.db.collection(options.collection);
  const backups = ctx.db.collection<BackupDocument>(options.backupCollection ?? DEFAULT_BACKUP_COLLECTION);
  const range = backupRange(backupPrefix(ctx.migration.id, options.collection));
  const saved = ctx.checkpoint.load<RestoreCheckpoint>();
  const resumed = saved?.kind === 'restore-backups';
  let state: RestoreCheckpoint = resumed ? saved : { kind: 'restore-backups', restored: 0, alreadyRestored: 0, conflicts: 0, batches: 0 };
  const total = state.restored + state.alreadyRestored + state.conflicts + (await backups.countDocuments({ _id: range }));
  const conflictList: RestoreConflict[] = [];
  const guard = (): void => {
    if (ctx.signal.aborted) throw new InterruptedError();
    ctx.lease.assertHeld();
  };

  const processPage = async (page: BackupDocument[]): Promise<void> => {
    const operations: AnyBulkWriteOperation<Document>[] = page.map((b) => ({
      updateOne: {
        filter: { _id: b.docId, ...b.after } as Filter<Document>,
        update: { ...(Object.keys(b.before).length ? { $set: b.before } : {}), ...(b.missing.length ? { $unset: Object.fromEntries(b.missing.map((f) => [f, ''])) } : {}) },
      },
    }));
    const { matchedCount } = await target.bulkWrite(operations, { ordered: false });
    let alreadyRestored = 0;
    const conflicts: Array<{ backup: BackupDocument; current: Document | null }> = [];
    if (matchedCount < page.length) {
      const fields = [...new Set(page.flatMap((b) => [...Object.keys(b.before), ...b.missing, ...Object.keys(b.after)]))];
      const current = await target
        .find({ _id: { $in: page.map((b) => b.docId) } } as Filter<Document>, { projection: Object.fromEntries(fields.map((f) => [f, 1])) })
        .toArray();
      const byId = new Map(current.map((d) => [backupKey(d._id), d]));
      let atBefore = 0;
      for (const backup of page) {
        const doc = byId.get(backupKey(backup.docId)) ?? null;
        if (doc && holdsBefore(doc, backup)) atBefore++;
        else conflicts.push({ backup, current: doc });
      }
      // Documents restored by this bulkWrite are also at their before-values now.
      alreadyRestored = atBefore - matchedCount;
    }
    if (conflicts.length > 0) {
      const at = new Date();
      await backups
        .insertMany(
          conflicts.map(({ backup, current }) => ({
            ...backup,
            _id: `conflict|${ctx.migration.runId}|${backup._id}`,
            conflict: { at, runId: ctx.migration.runId, current },
          })),
          { ordered: false },
        )
        .catch((error: unknown) => {
          // A resumed batch: the copies exist already.
          if (!(error instanceof MongoBulkWriteError && [error.writeErrors].flat().every((e) => e.code === 11000))) throw error;
        });
      for (const { backup, current } of conflicts) {
        if (conflictList.length < MAX_LISTED_CONFLICTS) conflictList.push({ docId: backup.docId, reason: current ? 'changed' : 'deleted' });
      }
      ctx.logger.warn('documents changed since the migration wrote them were not restored', { conflicts: conflicts.length });
    }
    state = {
      ...state,
      restored: state.restored + matchedCount,
      alreadyRestored: state.alreadyRestored + alreadyRestored,
      conflicts: state.conflicts + conflicts.length,
      batches: state.batches + 1,
    };
    await ctx.checkpoint.save(state);
    ctx.progress({ phase: 'restore', done: state.restored + state.alreadyRestored + state.conflicts, total });
  };

  // One streaming cursor: a single scan of the backups. They are deleted together at the end; a rerun after a
  // crash finds the documents already restored and counts them as such.
  await forEachBatch(backups.find({ _id: range }, { batchSize }), batchSize, guard, processPage);
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

function backupKey(id: unknown): string {
  return JSON.stringify(id);
}

function holdsBefore(doc: Document, backup: BackupDocument): boolean {
  return (
    Object.entries(backup.before).every(([field, value]) => sameValue(doc[field], value)) &&
    backup.missing.every((field) => !(field in doc))
  );
}
