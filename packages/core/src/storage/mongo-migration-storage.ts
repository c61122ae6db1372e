import type { Collection, Db } from 'mongodb';
import { LockLostError } from '../errors.js';
import { DEFAULT_HISTORY_LIMIT, MigrationStatus, type AttemptOutcome, type BeginAttempt, type FinishDetails, type RecordAmendment } from './migration-storage.js';
import type { HistoryEntry, HistoryFilter, MigrationRecord, MigrationStorage } from './migration-storage.js';
import { ServerClock } from '../server-clock.js';
import { isDuplicateKey } from '../driver-errors.js';
import { stateCollection } from './state-collections.js';

export const DEFAULT_MIGRATIONS_COLLECTION = 'migrations';
export const DEFAULT_HISTORY_COLLECTION = 'migration_history';

export interface MongoMigrationStorageOptions {
  readonly db: Db;
  /** Default `DEFAULT_MIGRATIONS_COLLECTION` (`migrations`). */
  readonly collection?: string;
  /** Default `DEFAULT_HISTORY_COLLECTION` (`migration_history`). */
  readonly historyCollection?: string;
  /** @internal Shared with the lock by the Migrator. Default: a `ServerClock` on `db`. */
  readonly clock?: ServerClock;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Migration records keyed by id (`_id`, unique by construction) plus an append-only history.
 * Every operation uses `STATE_COLLECTION_OPTIONS` (majority, journaled, primary), whatever the client's defaults.
 */
export class MongoMigrationStorage implements MigrationStorage {
  readonly #records: Collection<Writable<MigrationRecord>>;
  readonly #history: Collection<HistoryEntry>;
  readonly #clock: ServerClock;
  #historyIndex: Promise<unknown> | undefined;
  /** Start times of attempts begun by this instance, so `finish` can store a duration in the same write. */
  readonly #startedAt = new Map<string, Date>();

  constructor(options: MongoMigrationStorageOptions) {
    this.#records = stateCollection(options.db, options.collection ?? DEFAULT_MIGRATIONS_COLLECTION);
    this.#history = stateCollection(options.db, options.historyCollection ?? DEFAULT_HISTORY_COLLECTION);
    this.#clock = options.clock ?? new ServerClock(options.db);
  }

  async records(): Promise<MigrationRecord[]> {
    // The checkpoint can be large and is only needed by `begin`.
    return this.#records.find({}, { projection: { checkpoint: 0 } }).toArray();
  }

  async begin(attempt: BeginAttempt): Promise<MigrationRecord> {
    await (this.#historyIndex ??= this.#history.createIndex({ migrationId: 1, finishedAt: -1 }).catch(() => (this.#historyIndex = undefined)));
    const existing = await this.#records.findOne({ _id: attempt.id });
    const now = await this.#clock.now();
    const inProgress = attempt.direction === 'up' ? MigrationStatus.applying : MigrationStatus.reverting;
    const resuming =
      existing !== null &&
      existing.direction === attempt.direction &&
      (existing.status === inProgress || existing.status === MigrationStatus.failed);
    const { identity } = attempt;
    this.#startedAt.set(attempt.id, now);
    const fields = {
      checksum: attempt.checksum,
      status: inProgress,
      direction: attempt.direction,
      ...(attempt.source ? { source: attempt.source } : {}),
      startedAt: now,
      runAt: resuming ? existing.runAt : now,
      runId: identity.runId,
      host: identity.host,
      pid: identity.pid,
      user: identity.user,
      fence: attempt.fence,
    };
    if (!existing) {
      const record = { _id: attempt.id, ...fields };
      await this.#records.insertOne(record).catch((error: unknown) => {
        if (isDuplicateKey(error)) throw new LockLostError('another process started this migration');
        throw error;
      });
      return record;
    }
    const unset: Record<string, ''> = { error: '', finishedAt: '', durationMs: '', ...(resuming ? {} : { checkpoint: '', counts: '' }) };
    // Compare-and-set on the fence we read: a process that took over since then wins, we stop.
    const updated = await this.#records.findOneAndUpdate(
      { _id: attempt.id, fence: existing.fence ?? { $exists: false } },
      { $set: fields, $unset: unset },
      { returnDocument: 'after' },
    );
    if (!updated) throw new LockLostError('another process started this migration');
    return updated;
  }

  async saveCheckpoint(id: string, fence: string, value: unknown): Promise<void> {
    const { matchedCount } = await this.#records.updateOne({ _id: id, fence }, { $set: { checkpoint: value } });
    if (matchedCount === 0) throw new LockLostError(`the record of ${id} now carries another run's lease`);
  }

  async finish(id: string, fence: string, outcome: AttemptOutcome, details: FinishDetails): Promise<void> {
    const finishedAt = await this.#clock.now();
    const status =
      outcome === 'applied' ? MigrationStatus.applied : outcome === 'rolled_back' ? MigrationStatus.rolledBack : MigrationStatus.failed;
    const success = outcome === 'applied' || outcome === 'rolled_back';
    const startedAt = this.#startedAt.get(id);
    const record = await this.#records.findOneAndUpdate(
      { _id: id, fence },
      {
        $set: {
          status,
          finishedAt,
          ...(details.counts ? { counts: details.counts } : {}),
          ...(details.error ? { error: details.error } : {}),
          ...(outcome === 'applied' ? { appliedAt: finishedAt } : {}),
          ...(outcome === 'applied' && details.outOfOrder ? { outOfOrder: true } : {}),
          ...(startedAt ? { durationMs: Math.max(0, finishedAt.getTime() - startedAt.getTime()) } : {}),
        },
        ...(success ? { $unset: { checkpoint: '', ...(outcome === 'applied' && details.outOfOrder ? {} : { outOfOrder: '' }), ...(outcome === 'applied' ? {} : { baseline: '' }) } } : {}),
      },
      { returnDocument: 'after' },
    );
    if (!record) throw new LockLostError(`the record of ${id} now carries another run's lease`);
    const durationMs = record.durationMs ?? Math.max(0, finishedAt.getTime() - record.startedAt.getTime());
    await this.#history.insertOne({
      migrationId: id,
      direction: record.direction,
      outcome,
      checksum: record.checksum,
      startedAt: record.startedAt,
      finishedAt,
      durationMs,
      ...(details.counts ? { counts: details.counts } : {}),
      runId: record.runId,
      host: record.host,
      pid: record.pid,
      user: record.user,
      ...(details.error ? { error: details.error } : {}),
      ...(outcome === 'applied' && details.outOfOrder ? { outOfOrder: true } : {}),
      ...(details.batchSize !== undefined ? { batchSize: details.batchSize } : {}),
    });
  }

  async amend(id: string, amendment: RecordAmendment): Promise<void> {
    const unset = Object.fromEntries((amendment.unset ?? []).map((field) => [field, '' as const]));
    await this.#records.updateOne(
      { _id: id },
      { $set: amendment.set, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) },
      // Under the lock nobody races this upsert (a racing upsert's duplicate is code 1 on DocumentDB, not 11000).
      { upsert: true },
    );
    await this.#history.insertOne({ ...amendment.history });
  }

  async history(filter: HistoryFilter = {}): Promise<HistoryEntry[]> {
    return this.#history
      .find(filter.migrationId ? { migrationId: filter.migrationId } : {})
      .sort({ finishedAt: -1, _id: -1 })
      .limit(filter.limit ?? DEFAULT_HISTORY_LIMIT)
      .toArray();
  }
}
