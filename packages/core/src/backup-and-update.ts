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
  sameValue,
  type BackupDocument,
} from './backup-document.js';
import { InterruptedError, InvalidOptionError } from './errors.js';
import { forEachBatch } from './for-each-batch.js';
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
  /** Documents changed (in this attempt and any it resumed): the number of backups once no target remains. */
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
  readonly updated: number;
  readonly skipped: number;
  readonly batches: number;
  readonly passes: number;
}

/**
 * Backs up `fields` of every document matching `filter`, then `$set`s `set` on exactly those documents, in batches
 * streamed from one cursor: insert the batch's backups → update each document with the filter re-checked → checkpoint.
 * `set` must make a document stop matching `filter`. Memory holds one batch. After a crash a rerun resumes: updated
 * documents no longer match, every updated document has a backup, nothing is changed twice. The lease is checked
 * before each write; a lost lease stops the run.
 */
export async function backupAndUpdate(ctx: MigrationContext, options: BackupAndUpdateOptions): Promise<BackupAndUpdateResult> {
  const batchSize = options.batchSize ?? ctx.batchSize;
  checkBatchSize(batchSize);
  checkFields(options.fields, options.set);
  checkSelfExcluding(options.filter, options.set);
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

  const processPage = async (page: Document[]): Promise<void> => {
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
        createdAt: ctx.migration.runAt,
      };
    });
    await insertBackups(backups, docs);
    guard();
    // One update per document, each re-checking the filter: measured faster here than one updateMany with $in.
    const { matchedCount } = await target.bulkWrite(
      page.map((doc) => ({ updateOne: { filter: withId(options.filter, doc._id), update: { $set: options.set } } })),
      { ordered: false },
    );
    let skipped = 0;
    if (matchedCount < page.length) {
      // Changed by someone else between our read and our write: not ours to touch, so its backup goes.
      const stale = await target
        .find({ _id: { $in: page.map((d) => d._id) }, $nor: [options.set as Filter<Document>] } as Filter<Document>, { projection: { _id: 1 } })
        .toArray();
      if (stale.length > 0) await backups.deleteMany({ _id: { $in: stale.map((d) => backupId(prefix, d._id)) } });
      skipped = stale.length;
      if (skipped > 0) ctx.logger.warn('targets changed concurrently were left as they are', { skipped });
    }
    state = { ...state, updated: state.updated + matchedCount, skipped: state.skipped + skipped, batches: state.batches + 1 };
    await ctx.checkpoint.save(state);
    ctx.progress({ phase: 'update', done: state.updated, total });
  };

  let remaining: number;
  for (;;) {
    guard();
    // One streaming cursor per pass: a single scan, however large the collection. Updated documents stop
    // matching the filter, so a resumed or repeated pass only sees what is left.
    await forEachBatch(target.find(options.filter, { projection, batchSize }), batchSize, guard, processPage);
    remaining = await target.countDocuments(options.filter);
    if (remaining === 0 || state.passes + 1 >= maxPasses) break;
    // Targets appeared behind the cursor (written concurrently): sweep again.
    ctx.logger.info('new targets appeared during the run; sweeping again', { remaining });
    state = { ...state, passes: state.passes + 1 };
    await ctx.checkpoint.save(state);
  }
  const durationMs = performance.now() - started;
  // Every updated document has exactly one backup; the checkpoint's count can lag by the batch a crash cut short.
  const backedUp = await backups.countDocuments({ _id: backupRange(prefix) });
  return {
    updated: remaining === 0 ? backedUp : state.updated,
    backedUp,
    skipped: state.skipped,
    remaining,
    batches: state.batches,
    passes: state.passes + 1,
    resumed,
    durationMs: Math.round(durationMs),
    docsPerSecond: Math.round(state.updated / Math.max(durationMs / 1000, 0.001)),
  };
}

/** Inserts backups; one that exists already (a resumed batch) keeps its first before-values. */
async function insertBackups(backups: Collection<BackupDocument>, docs: BackupDocument[]): Promise<void> {
  try {
    await backups.insertMany(docs, { ordered: false });
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error;
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    if (writeErrors.some((e) => e.code !== 11000)) throw error;
  }
}

/** `filter` narrowed to one `_id`; flat when possible, which the server plans best. */
function withId(filter: Filter<Document>, id: unknown): Filter<Document> {
  return ('_id' in filter ? { $and: [filter, { _id: id }] } : { ...filter, _id: id }) as Filter<Document>;
}

/** Updated documents must stop matching the filter, or a resumed run would back them up again with their new values. */
function checkSelfExcluding(filter: Filter<Document>, set: Readonly<Record<string, unknown>>): void {
  const excludes = Object.entries(set).some(([field, value]) => {
    const wanted = (filter as Record<string, unknown>)[field];
    return wanted !== undefined && (typeof wanted !== 'object' || wanted === null || wanted instanceof Date) && !sameValue(wanted, value);
  });
  if (!excludes) {
    throw new InvalidOptionError(
      'The filter must select on a field that `set` changes to another value (for example filter { status: "unspent" } with set { status: "spent" }), so that updated documents stop matching.',
    );
  }
}
