import { performance } from 'node:perf_hooks';
import type { AnyBulkWriteOperation, Collection, Document, Filter } from 'mongodb';
import {
  DEFAULT_BACKUP_COLLECTION,
  DEFAULT_MAX_PASSES,
  EXACT_READ,
  asStored,
  backupId,
  backupPrefix,
  backupRange,
  checkBatchSize,
  checkConcurrency,
  checkFields,
  checkStep,
  constant,
  exactMatch,
  holds,
  idKey,
  sameValue,
  type BackupDocument,
} from './backup-document.js';
import { targetCollection, type ToolkitTarget } from './target.js';
import { InvalidOptionError } from '../errors.js';
import { forEachBatch } from './for-each-batch.js';
import { filterFields, matchesEquality } from './filter-fields.js';
import { ConditionalUpdates, PipelineSupport, stateKey } from './conditional-update.js';
import type { MigrationContext } from '../migration.js';
import { assertMayContinue, type ServerFence } from '../lock/migration-lock.js';
import { DUPLICATE_KEY, UNSUPPORTED_FEATURE_CODES, hasCode, writeErrorsOf } from '../driver-errors.js';
import { claimStep, loadStep, saveStep, stepKey } from './checkpoint.js';

export interface BackupAndUpdateOptions extends ToolkitTarget {
  /**
   * Which documents to change; re-checked on every write, so a document that stops matching is left alone: by the
   * values of the fields it names (`conditional-update`), or, for a filter that does not decide by value alone (see
   * `WritePath`), as each write's query.
   */
  readonly filter: Filter<Document>;
  /** Top-level fields whose before-values are backed up. Must include every key of `set`. */
  readonly fields: readonly string[];
  /**
   * What is written (`$set`). Use values that are stable across resumes and that only the migration writes, such as
   * `ctx.migration.runAt`: a document found holding exactly these values is taken as written by the migration.
   */
  readonly set: Readonly<Record<string, unknown>>;
  /** Documents per batch. Default: the migrator's `batchSize` (`DEFAULT_BATCH_SIZE`, 1000). */
  readonly batchSize?: number;
  /**
   * Batches written at once. Each batch is still backed up before it is written and checkpointed in order; more than
   * one lets the server write one batch while the next is read and backed up. Default: the migrator's `concurrency`
   * (`DEFAULT_CONCURRENCY`, 2).
   */
  readonly concurrency?: number;
  /** Default `DEFAULT_BACKUP_COLLECTION` (`migration_backups`). */
  readonly backupCollection?: string;
  /** Passes over targets that appear behind the scan (concurrent inserts or changes). Default `DEFAULT_MAX_PASSES` (3). */
  readonly maxPasses?: number;
  /**
   * Names this call when one migration calls `backupAndUpdate` more than once on the same collection: each step keeps
   * its own backups and checkpoint; pass the same `step` to `restoreBackups`, in reverse order, in `down`. Letters,
   * digits, `_` and `-`. Default: none (one call per collection; a second one is refused).
   */
  readonly step?: string;
  /**
   * Fence each batch's data write on the server: one `$lookup` + `$merge` command on the lock collection that writes
   * only while our lease document carries our fence (when the lease lives in this database; servers without `$merge`
   * fall back by themselves). It closes the stale-holder window (a holder paused past its lease, resumed after another
   * process took over and ran `down`, can otherwise flip one batch). The price, where `$merge` cannot re-check each
   * document as it writes it (DocumentDB, code 115): an application write to a written field that lands during that one
   * command is overwritten. So it is off by default, where each document is a compare-and-set and no application write
   * is ever lost. Turn it on for collections the application does not write while the migration runs. Default `false`.
   */
  readonly fenced?: boolean;
}

/**
 * How `backupAndUpdate` writes a batch: `conditional-update` (one update per document found by its `_id`, whose
 * pipeline writes only if the document still holds exactly what was read); `bulk-update` (one update per document
 * whose query is the filter plus the compare-and-set: for a filter that does not decide by value alone, one with a
 * regular expression, `$type`, `$mod`, a bit test, `$expr`, `$where` or any operator outside `$eq`, `$ne`, `$gt(e)`,
 * `$lt(e)`, `$in`, `$nin`, `$exists`, `$size`, `$all`, `$elemMatch`, `$not`, `$and`, `$or`, `$nor`; and on servers
 * without update pipelines); or `fenced-merge` (see `fenced`).
 */
export const WritePath = { fencedMerge: 'fenced-merge', conditionalUpdate: 'conditional-update', bulkUpdate: 'bulk-update' } as const;
export type WritePath = (typeof WritePath)[keyof typeof WritePath];

export interface BackupAndUpdateResult {
  /**
   * Documents changed (in this attempt and any it resumed): the number of backups once no target remains. While
   * targets remain (`remaining` > 0) it counts writes, so a document the application made a target again and that was
   * written again counts twice.
   */
  readonly updated: number;
  /**
   * Backups kept: one per changed document, plus any document another writer changed around our update when the
   * counts could not tell whether our update came first (rare; `restoreBackups` reports those as conflicts).
   */
  readonly backedUp: number;
  /** Targets read but changed by someone else so that they left the filter before our write: left as they were, backup dropped. */
  readonly skipped: number;
  /** Documents still matching the filter afterwards (0 unless writers keep adding targets). */
  readonly remaining: number;
  /** Batches checkpointed; after a resume, batches that finished but were never checkpointed are not counted. */
  readonly batches: number;
  readonly passes: number;
  /** Whether this attempt continued an earlier, unfinished one. */
  readonly resumed: boolean;
  /** How the batches' data writes went (`WritePath`): `conditional-update`, `bulk-update` or `fenced-merge`, several joined by `+` when a fallback happened mid-run, or `none`. */
  readonly writePath: string;
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
 * streamed from one cursor in `_id` order: insert the batch's backups → write the batch in one command, each document
 * only if it still matches the filter and holds exactly its backed-up values → settle the batch → checkpoint. So a
 * backup always holds exactly the values our update replaced. `set` must make a document stop matching `filter`.
 * Memory holds one batch. After a crash a rerun resumes: updated documents no longer match, every updated document has
 * a backup, nothing is changed twice. The lease is checked before each write, and, when it lives in this database,
 * again by the server inside the batch's write (see `fenced`); a lost lease stops the run.
 */
export async function backupAndUpdate(ctx: MigrationContext, options: BackupAndUpdateOptions): Promise<BackupAndUpdateResult> {
  const collection = targetCollection(options);
  const batchSize = options.batchSize ?? ctx.batchSize;
  checkBatchSize(batchSize);
  const concurrency = options.concurrency ?? ctx.concurrency;
  checkConcurrency(concurrency);
  checkFields(options.fields, options.set);
  checkSelfExcluding(options.filter, options.set);
  checkStep(options.step);
  const key = stepKey('backup-and-update', collection, options.step);
  claimStep(ctx.checkpoint, key, collection, options.step);
  const started = performance.now();
  const target = ctx.db.collection(collection);
  const backups = ctx.db.collection<BackupDocument>(options.backupCollection ?? DEFAULT_BACKUP_COLLECTION);
  const prefix = backupPrefix(ctx.migration.id, collection, options.step);
  const projection = Object.fromEntries(options.fields.map((f) => [f, 1]));
  // The fields the filter depends on, besides the backed-up ones: read with the targets, so that each document's
  // update can re-check the filter as "still holds exactly what was read" (see `conditionalWrite`). Undefined when the
  // filter's outcome cannot be pinned to field values: then the filter itself is the condition (`bulk-update`).
  const guarded = filterFields(options.filter)?.filter((f) => f !== '_id' && !options.fields.includes(f));
  const readProjection = { ...projection, ...Object.fromEntries((guarded ?? []).map((f) => [f, 1])) };
  const conditional = guarded !== undefined;
  const updates = new ConditionalUpdates();
  const written = asStored(options.set);
  const maxPasses = options.maxPasses ?? DEFAULT_MAX_PASSES;
  const saved = loadStep<UpdateCheckpoint>(ctx.checkpoint, key, 'backup-and-update');
  const resumed = saved !== undefined;
  let state: UpdateCheckpoint = saved ?? { kind: 'backup-and-update', updated: 0, skipped: 0, batches: 0, passes: 0 };
  // The progress total is counted alongside the first batches rather than before them, and only for someone who
  // follows progress: the count is a scan of its own.
  let total: number | undefined;
  const counted = ctx.progressFollowed
    ? target.countDocuments(options.filter).then(
        (n) => {
          total = state.updated + n;
        },
        () => undefined,
      )
    : undefined;
  const guard = (): void => assertMayContinue(ctx.signal, ctx.lease);
  const pipelineSupport = new PipelineSupport((message, meta) => ctx.logger.warn(message, meta), guard);
  const leaseAt = ctx.lease.serverFence;
  let fence = leaseAt !== undefined && leaseAt.dbName === ctx.db.databaseName && options.fenced === true ? leaseAt : undefined;
  const paths = new Set<WritePath>();

  const work = async (page: Document[]): Promise<{ readonly matchedCount: number; readonly skipped: number }> => {
    // A target that holds exactly what we write means `set` does not take documents out of the filter (a case the
    // check before the run cannot see); replacing its backup now would lose the before-values of our first write.
    if (resumed || state.passes > 0) {
      const stuck = page.find((doc) => holds(doc, written));
      if (stuck !== undefined) {
        throw new InvalidOptionError(
          `Documents written by this migration still match its filter (document ${idKey(stuck._id)} holds exactly the values of \`set\`): \`set\` must change a field the filter selects on to a value the filter does not match. Such documents keep the backups of their first write, so rolling the migration back restores them.`,
        );
      }
    }
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
        collection,
        ...(options.step === undefined ? {} : { step: options.step }),
        docId: doc._id,
        before,
        missing,
        after: { ...options.set },
        createdAt: ctx.migration.runAt,
      };
    });
    await insertBackups(backups, docs, guard);
    guard();
    const { matchedCount, exact } = await writeBatch(docs, page);
    const skipped = matchedCount < page.length ? await settle(docs, matchedCount, exact) : 0;
    return { matchedCount, skipped };
  };

  /** Called in cursor order, one batch at a time: the checkpoint only counts batches whose write has finished. */
  const commit = async ({ matchedCount, skipped }: { readonly matchedCount: number; readonly skipped: number }): Promise<void> => {
    state = { ...state, updated: state.updated + matchedCount, skipped: state.skipped + skipped, batches: state.batches + 1 };
    await saveStep(ctx.checkpoint, key, state);
    ctx.progress({ phase: 'update', done: state.updated, ...(total === undefined ? {} : { total: Math.max(total, state.updated) }) });
  };

  /**
   * Some updates matched nothing: the app changed those documents between our read and our update. The bulk result
   * only counts, so read the batch back and class each document:
   * - still matching the filter, or holding exactly its before-values: not written by us (a write makes it leave
   *   the filter and changes a backed-up value). Its backup goes; if it still matches, a later pass backs it up afresh;
   * - holding exactly what we wrote: written;
   * - anything else (other values, or deleted): changed by the app either before our update (not written) or after
   *   it (written). The count decides when it can: if the written documents above account for every match, none of
   *   these was written and their backups go. Otherwise they stay; `restoreBackups` never writes a document that does
   *   not hold what we wrote, it reports it as a conflict. So a written document never loses its backup.
   * Returns how many targets left the filter unwritten (skipped).
   */
  const settle = async (docs: readonly BackupDocument[], matchedCount: number, exact: boolean): Promise<number> => {
    const ids = docs.map((b) => b.docId);
    const [current, stillTargets] = await Promise.all([
      target.find({ _id: { $in: ids } } as Filter<Document>, { projection, ...EXACT_READ }).toArray(),
      target.find(withIds(options.filter, ids), { projection: { _id: 1 }, ...EXACT_READ }).toArray(),
    ]);
    const byId = new Map(current.map((d) => [idKey(d._id), d]));
    const matching = new Set(stillTargets.map((d) => idKey(d._id)));
    const notWritten: BackupDocument[] = [];
    const unsure: BackupDocument[] = [];
    let ours = 0;
    let skipped = 0;
    for (const b of docs) {
      const doc = byId.get(idKey(b.docId));
      if (matching.has(idKey(b.docId))) notWritten.push(b);
      else if (doc && holds(doc, b.before, b.missing)) {
        notWritten.push(b);
        skipped++;
      } else if (doc && holds(doc, written)) ours++;
      else if (!exact && doc && keepsBeforeValue(doc, b, written)) {
        // No count to go by (the fenced write): our write sets every written field, so a written field still at
        // its before-value means we did not write this document. (Else the app would have put that exact value back
        // after our write, and down would only have reported the document, never written it.)
        notWritten.push(b);
        skipped++;
      } else unsure.push(b);
    }
    if (unsure.length > 0 && exact && matchedCount <= ours) {
      notWritten.push(...unsure);
      skipped += unsure.length;
    } else if (unsure.length > 0) {
      ctx.logger.warn('documents changed by another writer around our update keep their backups; down will report them as conflicts', { documents: unsure.length });
    }
    if (notWritten.length > 0) {
      guard();
      await backups.deleteMany({ _id: { $in: notWritten.map((b) => b._id) } });
    }
    if (skipped > 0) ctx.logger.warn('targets changed concurrently were left as they are', { skipped });
    return skipped;
  };

  /**
   * The batch's data write, in one command, replacing exactly what the backups hold or nothing; a document inserted
   * meanwhile is not among the batch's `_id`s. Fenced (see `fencedWrite`) when asked and the lease lives on this
   * server; else one unordered bulk of one conditional update per document (`conditionalWrite`), or, for a filter it
   * cannot re-check and on servers without update pipelines, of one compare-and-set query per document (`casFilter`).
   * Returns the documents written, and whether that count is exact (the bulk's count) or read back afterwards (the
   * fenced write reports no count).
   */
  const writeBatch = async (docs: readonly BackupDocument[], page: readonly Document[]): Promise<{ matchedCount: number; exact: boolean }> => {
    const conditionOf = (group: readonly BackupDocument[]): Filter<Document> => {
      const first = group[0] as BackupDocument;
      return { $and: [options.filter, { _id: { $in: group.map((b) => b.docId) } }, exactMatch(first.before, first.missing)] } as Filter<Document>;
    };
    if (fence !== undefined) {
      try {
        // One command per batch: the groups' conditions joined by `$or`.
        const conditions = [...groupByBefore(docs).values()].map(conditionOf);
        const ids = docs.map((b) => b.docId);
        await fencedWrite(fence, ids, (conditions.length === 1 ? conditions[0] : { $or: conditions }) as Filter<Document>);
        paths.add(WritePath.fencedMerge);
        const matchedCount = await target.countDocuments({ $and: [{ _id: { $in: ids } }, exactMatch(options.set)] } as Filter<Document>);
        return { matchedCount, exact: false };
      } catch (error) {
        if (!hasCode(error, UNSUPPORTED_FEATURE_CODES)) throw error;
        ctx.logger.warn('this server cannot run the fenced batch write ($lookup + $merge); writing with a bulk of compare-and-set updates, guarded by the local lease check only', { error: String(error) });
        fence = undefined;
        guard();
      }
    }
    // One round trip: an unordered bulk of one compare-and-set `updateOne` per document. (DocumentDB runs an
    // `updateMany` over an `_id` list or range as a collection scan: 3 s per 1,000 at 1e6, against 0.5 s for this.)
    // The values go in as a pipeline's literals where the server takes pipelines: FerretDB's `$set` operator keeps a
    // stored number's form when the new value is numerically equal (Decimal 1.0 over 1.00, 0 over -0), and then the
    // document would not hold what its backup says was written.
    const bulk = async (update: Document | Document[]): Promise<{ matchedCount: number; exact: boolean }> => {
      const { matchedCount } = await target.bulkWrite(
        docs.map((b) => ({ updateOne: { filter: casFilter(options.filter, b), update } })),
        { ordered: false },
      );
      paths.add(WritePath.bulkUpdate);
      return { matchedCount, exact: true };
    };
    const queryPath = () =>
      pipelineSupport.write(
        docs.length,
        () => bulk([{ $set: Object.fromEntries(Object.entries(options.set).map(([field, value]) => [field, constant(value)])) }]),
        () => bulk({ $set: options.set }),
      );
    if (!conditional) return queryPath();
    const operations = page.map((doc) => conditionalWrite(doc, guarded ?? []));
    return pipelineSupport.write(
      operations.length,
      async () => {
        const { modifiedCount } = await target.bulkWrite(operations, { ordered: false });
        paths.add(WritePath.conditionalUpdate);
        return { matchedCount: modifiedCount, exact: true };
      },
      queryPath,
    );
  };

  /**
   * One command that writes only while the lease document still carries our fence and has not expired by the
   * server's clock: an aggregation on the lock collection that finds our lease, looks up the batch's targets and
   * `$merge`s `set` into them. A holder stopped between its local check and this command and resumed after another
   * process took the lease over writes nothing. The condition holds for each document as the command reads it; with no
   * `whenMatched` pipeline on DocumentDB it is not re-checked as the command writes, so an application write to a
   * written field that lands inside this one command is overwritten (`fenced: false` has no such window).
   */
  const fencedWrite = async (at: ServerFence, ids: readonly unknown[], condition: Filter<Document>): Promise<void> => {
    await ctx.db
      .collection(at.collection)
      .aggregate([
        { $match: { _id: at.name, fence: ctx.lease.fence, $expr: { $gt: ['$expiresAt', '$$NOW'] } } },
        // Looked up by `_id` (`localField`: the `_id` index; a `$lookup` pipeline `$match` scans the collection on
        // DocumentDB), then the batch's condition on each document as read.
        { $project: { _id: 0, ids: { $literal: ids } } },
        { $lookup: { from: collection, localField: 'ids', foreignField: '_id', as: 'targets' } },
        { $unwind: '$targets' },
        { $replaceWith: '$targets' },
        { $match: condition },
        { $replaceWith: { $mergeObjects: [{ _id: '$_id' }, { $literal: options.set }] } },
        { $merge: { into: collection, on: '_id', whenMatched: 'merge', whenNotMatched: 'discard' } },
      ])
      .toArray();
  };

  /** A document's write: `set`, only if it still holds exactly the values read (backed-up and filter-only fields). */
  const conditionalWrite = (doc: Document, filterOnly: readonly string[]): AnyBulkWriteOperation<Document> => {
    const values: Record<string, unknown> = {};
    const missing: string[] = [];
    for (const field of [...options.fields, ...filterOnly]) {
      if (field in doc) values[field] = doc[field];
      else missing.push(field);
    }
    return updates.update(doc._id, values, missing, options.set);
  };

  let remaining: number;
  for (;;) {
    guard();
    // One streaming cursor per pass, in `_id` order: a single scan, however large the collection (measured on
    // DocumentDB: the sorted cursor reads the targets about 3× faster than an unsorted one, whose getMores re-scan).
    // Updated documents stop matching the filter, so a resumed or repeated pass only sees what is left.
    await forEachBatch(target.find(options.filter, { projection: readProjection, batchSize, sort: { _id: 1 }, ...EXACT_READ }), { batchSize, concurrency, beforeBatch: guard, work, commit });
    remaining = await target.countDocuments(options.filter);
    if (remaining === 0 || state.passes + 1 >= maxPasses) break;
    // Targets appeared behind the cursor, or changed under our update: sweep again.
    ctx.logger.info('targets remain after the scan; sweeping again', { remaining });
    state = { ...state, passes: state.passes + 1 };
    await saveStep(ctx.checkpoint, key, state);
  }
  await counted;
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
    writePath: [...paths].join('+') || 'none',
    durationMs: Math.round(durationMs),
    docsPerSecond: Math.round(state.updated / Math.max(durationMs / 1000, 0.001)),
  };
}

/**
 * Inserts backups. A backup that exists already (a batch cut short before its update, or a document the app made a
 * target again after our write) is replaced: the document matches the filter now, so the values just read are the
 * ones the coming update replaces.
 */
async function insertBackups(backups: Collection<BackupDocument>, docs: readonly BackupDocument[], guard: () => void): Promise<void> {
  try {
    await backups.insertMany(docs as BackupDocument[], { ordered: false });
  } catch (error) {
    const failed = writeErrorsOf(error);
    if (!failed || failed.some((e) => e.code !== DUPLICATE_KEY || docs[e.index] === undefined)) throw error;
    guard();
    await backups.bulkWrite(
      failed.map((e) => {
        const doc = docs[e.index] as BackupDocument;
        return { replaceOne: { filter: { _id: doc._id }, replacement: doc } };
      }),
      { ordered: false },
    );
  }
}

/**
 * `filter`, plus this document's `_id` and the exact values its backup holds. The `_id` stays a top-level equality (the
 * server finds the document by its index); a condition of `filter` on a key the backup's condition also sets moves
 * into `$and`. A filter's plain string or boolean equality on a backed-up field is left out: the document matched it
 * when read, and the backup's condition requires that field to hold exactly the value read (one condition less for
 * the server to check per document).
 */
function casFilter(filter: Filter<Document>, backup: BackupDocument): Filter<Document> {
  const own: Document = exactMatch(backup.before, backup.missing);
  const merged: Document = { _id: backup.docId };
  const and: Document[] = [];
  for (const [key, condition] of Object.entries(filter as Document)) {
    if (key in backup.before && (typeof condition === 'string' || typeof condition === 'boolean')) continue;
    if (key === '$and' && Array.isArray(condition)) and.push(...(condition as Document[]));
    else if (key === '_id' || key in own) and.push({ [key]: condition });
    else merged[key] = condition;
  }
  Object.assign(merged, own);
  if (and.length > 0) merged.$and = and;
  return merged as Filter<Document>;
}

/** Whether `doc` still holds, in some field the migration writes, that field's before-value (a value other than the written one). */
function keepsBeforeValue(doc: Document, backup: BackupDocument, written: Readonly<Record<string, unknown>>): boolean {
  return Object.entries(written).some(([field, value]) => {
    if (field in backup.before) return !sameValue(backup.before[field], value) && field in doc && sameValue(doc[field], backup.before[field]);
    return backup.missing.includes(field) && !(field in doc);
  });
}

/** The batch's backups by their before-values (usually one group). */
function groupByBefore(docs: readonly BackupDocument[]): Map<string, BackupDocument[]> {
  const groups = new Map<string, BackupDocument[]>();
  for (const b of docs) {
    const k = stateKey(b.before, b.missing);
    const group = groups.get(k);
    if (group) group.push(b);
    else groups.set(k, [b]);
  }
  return groups;
}

/** `filter` narrowed to some `_id`s. */
function withIds(filter: Filter<Document>, ids: readonly unknown[]): Filter<Document> {
  return ('_id' in filter ? { $and: [filter, { _id: { $in: ids } }] } : { ...filter, _id: { $in: ids } }) as Filter<Document>;
}

/** Updated documents must stop matching the filter, or a resumed run would back them up again with their new values. */
function checkSelfExcluding(filter: Filter<Document>, set: Readonly<Record<string, unknown>>): void {
  const excludes = Object.entries(set).some(([field, value]) => {
    const wanted = (filter as Record<string, unknown>)[field];
    // Judged as the server's query does: set { v: Long(1) } leaves every document matching filter { v: 1 }.
    return wanted !== undefined && (typeof wanted !== 'object' || wanted === null || wanted instanceof Date) && !matchesEquality(wanted, value);
  });
  if (!excludes) {
    throw new InvalidOptionError(
      'The filter must select on a field that `set` changes to another value (for example filter { status: "unspent" } with set { status: "spent" }), so that updated documents stop matching.',
    );
  }
}
