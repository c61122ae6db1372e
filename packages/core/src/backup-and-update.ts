import { performance } from 'node:perf_hooks';
import { MongoBulkWriteError, type Collection, type Document, type Filter } from 'mongodb';
import {
  DEFAULT_BACKUP_COLLECTION,
  DEFAULT_MAX_PASSES,
  backupId,
  backupPrefix,
  backupRange,
  checkBatchSize,
  checkFields,
  type BackupDocument,
} from './backup-document.js';
import { InterruptedError } from './errors.js';
import type { MigrationContext } from './migration.js';

export interface BackupAndUpdateOptions {
  /** The collection to migrate. */
  readonly collection: string;
  /** Which documents to change; re-checked on every write, so a document that stops matching is left alone. */
  readonly filter: Filter<Document>;
  /** Top-level fields whose before-values are backed up. Must include every key of `set`. */
  readonly fields: readonly string[];
  /** What is written (`$set`). Use values that are stable across resumes, such as `ctx.migration.runAt`. */
  readonly set: Readonly<Record<string, unknown>>;
  /** Documents per batch. Default: the migrator's `batchSize` (`DEFAULT_BATCH_SIZE`, 1000). */
  readonly batchSize?: number;
  /** Default `DEFAULT_BACKUP_COLLECTION` (`migration_backups`). */
  readonly backupCollection?: string;
  /** Passes over targets that appear behind the scan (concurrent inserts). Default `DEFAULT_MAX_PASSES` (3). */
  readonly maxPasses?: number;
}

export interface BackupAndUpdateResult {
  /** Documents changed (in this attempt and any it resumed). */
  readonly updated: number;
  /** Backups that exist for changed documents. */
  readonly backedUp: number;
  /** Targets read but changed by someone else before our write: left as they were, backup dropped. */
  readonly skipped: number;
  /** Documents still matching the filter afterwards (0 unless writers keep adding targets). */
  readonly remaining: number;
  readonly batches: number;
  readonly passes: number;
  /** Whether this attempt continued an earlier, unfinished one. */
  readonly resumed: boolean;
  readonly durationMs: number;
  readonly docsPerSecond: number;
}

interface UpdateCheckpoint {
  readonly kind: 'backup-and-update';
  readonly lastId?: unknown;
  readonly updated: number;
  readonly skipped: number;
  readonly batches: number;
  readonly passes: number;
}

/**
 * Backs up `fields` of every document matching `filter`, then `$set`s `set` on exactly those documents, in batches:
 * read a page of targets by `_id` → insert their backups → update them with the filter re-checked → checkpoint.
 * Memory holds one batch. After a crash it resumes from the checkpoint: every changed document has a backup,
 * and nothing is changed twice. The lease is checked before each write; a lost lease stops the run.
 */
export async function backupAndUpdate(ctx: MigrationContext, options: BackupAndUpdateOptions): Promise<BackupAndUpdateResult> {
  const batchSize = options.batchSize ?? ctx.batchSize;
  checkBatchSize(batchSize);
  checkFields(options.fields, options.set);
  const started = performance.now();
  const target = ctx.db.collection(options.collection);
  const backups = ctx.db.collection<BackupDocument>(options.backupCollection ?? DEFAULT_BACKUP_COLLECTION);
  const prefix = backupPrefix(ctx.migration.id, options.collection);
  const projection = Object.fromEntries(options.fields.map((f) => [f, 1]));
  const maxPasses = options.maxPasses ?? DEFAULT_MAX_PASSES;
  const saved = ctx.checkpoint.load<UpdateCheckpoint>();
  const resumed = saved?.kind === 'backup-and-update';
  let state: UpdateCheckpoint = resumed ? saved : { kind: 'backup-and-update', updated: 0, skipped: 0, batches: 0, passes: 0 };
  const total = state.updated + (await target.countDocuments(options.filter));
  const guard = (): void => {
    if (ctx.signal.aborted) throw new InterruptedError();
    ctx.lease.assertHeld();
  };

  let remaining: number;
  for (;;) {
    for (;;) {
      guard();
      const page = await target
        .find(state.lastId === undefined ? options.filter : { $and: [options.filter, { _id: { $gt: state.lastId } } as Filter<Document>] }, {
          projection,
          sort: { _id: 1 },
          limit: batchSize,
        })
        .toArray();
      if (page.length === 0) break;
      const createdAt = ctx.migration.runAt;
      const docs = page.map((doc): BackupDocument => {
        const before: Record<string, unknown> = {};
        const missing: string[] = [];
        for (const field of options.fields) {
          if (field in doc) before[field] = doc[field];
          else missing.push(field);
        }
        return {
          _id: backupId(prefix, doc._id),
          migration: ctx.migration.id,
          collection: options.collection,
          docId: doc._id,
          before,
          missing,
          after: { ...options.set },
          createdAt,
        };
      });
      await insertBackups(backups, docs);
      guard();
      const ids = page.map((d) => d._id);
      const { matchedCount } = await target.updateMany({ $and: [options.filter, { _id: { $in: ids } }] }, { $set: options.set });
      let skipped = 0;
      if (matchedCount < ids.length) {
        // Changed by someone else between our read and our write: not ours to touch, so its backup goes.
        const stale = await target
          .find({ _id: { $in: ids }, $nor: [options.set as Filter<Document>] }, { projection: { _id: 1 } })
          .toArray();
        if (stale.length > 0) await backups.deleteMany({ _id: { $in: stale.map((d) => backupId(prefix, d._id)) } });
        skipped = stale.length;
        if (skipped > 0) ctx.logger.warn('targets changed concurrently were left as they are', { skipped });
      }
      state = {
        ...state,
        lastId: ids[ids.length - 1],
        updated: state.updated + matchedCount,
        skipped: state.skipped + skipped,
        batches: state.batches + 1,
      };
      await ctx.checkpoint.save(state);
      ctx.progress({ phase: 'update', done: state.updated, total });
    }
    remaining = await target.countDocuments(options.filter);
    if (remaining === 0 || state.passes + 1 >= maxPasses) break;
    // Targets appeared behind the scan (written concurrently): sweep again from the start.
    ctx.logger.info('new targets appeared during the run; sweeping again', { remaining });
    state = { ...state, lastId: undefined, passes: state.passes + 1 };
    await ctx.checkpoint.save(state);
  }
  const durationMs = performance.now() - started;
  return {
    updated: state.updated,
    backedUp: await backups.countDocuments({ _id: backupRange(prefix) }),
    skipped: state.skipped,
    remaining,
    batches: state.batches,
    passes: state.passes + 1,
    resumed,
    durationMs: Math.round(durationMs),
    docsPerSecond: Math.round(state.updated / Math.max(durationMs / 1000, 0.001)),
  };
}

/** Inserts backups; one that exists (a resumed batch) is replaced, since its document was not changed yet. */
async function insertBackups(backups: Collection<BackupDocument>, docs: BackupDocument[]): Promise<void> {
  try {
    await backups.insertMany(docs, { ordered: false });
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error;
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    const others = writeErrors.filter((e) => e.code !== 11000);
    if (others.length > 0) throw error;
    for (const e of writeErrors) {
      const doc = docs[e.index];
      if (doc) await backups.replaceOne({ _id: doc._id }, doc);
    }
  }
}
