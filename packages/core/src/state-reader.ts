import type { Db, MongoClient } from 'mongodb';
import type { Logger } from 'winston';
import type { DriftEntry, LockHolder } from './errors.js';
import type { MigrationLock } from './lock/migration-lock.js';
import type { ImpactReport, PreviewContext } from './migration.js';
import { withConnection, type MongooseConnection } from './mongoose-connection.js';
import { findMigration, type LoadedMigration } from './sources/load-migrations.js';
import { DEFAULT_BACKUP_COLLECTION } from './toolkit/backup-document.js';
import { inspectBackups, type BackupCounts } from './toolkit/inspect-backups.js';
import { findOutOfOrder } from './storage/out-of-order.js';
import { isExecuted, type HistoryEntry, type MigrationRecord, type MigrationStatus, type MigrationStorage } from './storage/migration-storage.js';

export const DEFAULT_PREVIEW_TOP = 10;
export const DEFAULT_PREVIEW_SAMPLES = 5;

/**
 * One migration's line in a `StatusReport`: its record's `MigrationStatus`, or `pending` (no record) or `missing`
 * (a record whose file is gone).
 */
export interface MigrationState {
  readonly id: string;
  readonly description?: string;
  readonly state: MigrationStatus | 'pending' | 'missing';
  readonly record?: MigrationRecord;
  readonly drift?: DriftEntry['kind'];
  readonly hasPreview: boolean;
  /**
   * Copies a rollback kept because the document had changed since `up` (the toolkit's `conflict|…` backups in
   * `DEFAULT_BACKUP_COLLECTION`): documents the rollback left as the application wrote them. Absent when none.
   */
  readonly parkedConflicts?: number;
}

/** What `status` returns: every migration's state, drift, and the lock holder if any. */
export interface StatusReport {
  readonly migrations: readonly MigrationState[];
  readonly pending: number;
  /** Whether `up` has work to do. */
  readonly needed: boolean;
  readonly drift: readonly DriftEntry[];
  /** Pending migrations that sort before an applied one of the same source (`lastApplied`): `up` refuses them unless `allowOutOfOrder`. */
  readonly outOfOrder: ReadonlyArray<{ readonly id: string; readonly lastApplied: string }>;
  readonly lock?: { readonly holder: LockHolder; readonly expired: boolean };
}

export interface PreviewOptions {
  /** Preview this migration; default: every pending migration. */
  readonly migration?: string;
  /** Default `DEFAULT_PREVIEW_TOP` (10). */
  readonly top?: number;
  /** Default `DEFAULT_PREVIEW_SAMPLES` (5). */
  readonly samples?: number;
}

export interface PreviewResult {
  readonly id: string;
  readonly state: MigrationState['state'];
  readonly report?: ImpactReport;
  /** Why there is no report. */
  readonly note?: string;
}

export interface VerifyReport {
  /** No drift. (Backups are reported, not judged: what they show is normal after application writes.) */
  readonly ok: boolean;
  readonly drift: readonly DriftEntry[];
  readonly checked: number;
  /** The toolkit's backups in `DEFAULT_BACKUP_COLLECTION`, per migration that has any, with its record's status. */
  readonly backups: ReadonlyArray<BackupCounts & { readonly migrationId: string; readonly state: MigrationState['state'] }>;
}

export interface HistoryOptions {
  /** Entries of this migration only (id, name or number). */
  readonly migration?: string;
  /** Default `DEFAULT_HISTORY_LIMIT` (100). */
  readonly limit?: number;
}

/** What the reader needs from the migrator it reads for. */
export interface StateReaderDeps {
  readonly load: () => Promise<readonly LoadedMigration[]>;
  readonly storage: MigrationStorage;
  readonly lock: MigrationLock;
  readonly client: MongoClient;
  readonly db: Db;
  readonly logger: Logger;
  readonly batchSize: number;
  /** The Mongoose connection of `ctx.connection`, or why there is none. */
  readonly mongoose: () => Promise<MongooseConnection | string>;
}

/** Reads migration state without the lock and without writing: status, pending, applied, drift, history, previews. */
export class StateReader {
  constructor(private readonly deps: StateReaderDeps) {}

  async status(): Promise<StatusReport> {
    const migrations = await this.deps.load();
    const records = await this.deps.storage.records();
    const byId = new Map(records.map((r) => [r._id, r]));
    const drift = computeDrift(migrations, records);
    const driftById = new Map(drift.map((d) => [d.id, d.kind]));
    const states: MigrationState[] = migrations.map((m) => {
      const record = byId.get(m.id);
      return {
        id: m.id,
        ...(m.module.description ? { description: m.module.description } : {}),
        state: record ? record.status : 'pending',
        ...(record ? { record } : {}),
        ...(driftById.has(m.id) ? { drift: driftById.get(m.id) } : {}),
        hasPreview: typeof m.module.preview === 'function',
      };
    });
    for (const record of records) {
      // Drift only while it counts as applied: one resolved as pending is just a record whose file is gone.
      if (!migrations.some((m) => m.id === record._id)) states.push({ id: record._id, state: 'missing', record, ...(isExecuted(record) ? { drift: 'missing' as const } : {}), hasPreview: false });
    }
    const parked = await this.#parkedConflicts();
    const withParked = states.map((s) => (parked.has(s.id) ? { ...s, parkedConflicts: parked.get(s.id) } : s));
    const pending = states.filter((s) => s.state !== 'missing' && !(s.record && isExecuted(s.record))).length;
    const lock = await this.deps.lock.inspect();
    const outOfOrder = findOutOfOrder(migrations, records, migrations);
    return { migrations: withParked, pending, needed: pending > 0, drift, outOfOrder, ...(lock ? { lock } : {}) };
  }

  /** Ids of pending migrations, in run order. */
  async pending(): Promise<string[]> {
    const { migrations, executed } = await this.#applied();
    return migrations.filter((m) => !executed.has(m.id)).map((m) => m.id);
  }

  /** Ids of applied migrations that have a file, in run order. */
  async executed(): Promise<string[]> {
    const { migrations, executed } = await this.#applied();
    return migrations.filter((m) => executed.has(m.id)).map((m) => m.id);
  }

  /** Applied migrations whose file changed or is missing. */
  async verify(): Promise<VerifyReport> {
    const migrations = await this.deps.load();
    const records = await this.deps.storage.records();
    const drift = computeDrift(migrations, records);
    const backups = this.deps.db.collection(DEFAULT_BACKUP_COLLECTION);
    const ids = (await backups.distinct('migration')).filter((id): id is string => typeof id === 'string').sort();
    const report: Array<VerifyReport['backups'][number]> = [];
    for (const migrationId of ids) {
      const { live, conflicts, orphaned } = await inspectBackups(this.deps.db, { migrationId });
      const record = records.find((r) => r._id === migrationId);
      const state = record ? record.status : migrations.some((m) => m.id === migrationId) ? 'pending' : 'missing';
      report.push({ migrationId, state, live, conflicts, orphaned });
    }
    return { ok: drift.length === 0, drift, checked: records.filter(isExecuted).length, backups: report };
  }

  /** Parked conflicts per migration: one aggregation over the `conflict|…` range of the backups' `_id` index. */
  async #parkedConflicts(): Promise<Map<string, number>> {
    const rows = await this.deps.db
      .collection<{ _id: string; migration: string }>(DEFAULT_BACKUP_COLLECTION)
      .aggregate<{ _id: string; n: number }>([{ $match: { _id: { $gte: 'conflict|', $lt: 'conflict}' } } }, { $group: { _id: '$migration', n: { $sum: 1 } } }])
      .toArray();
    return new Map(rows.map((r) => [r._id, r.n]));
  }

  /** Finished runs and rollbacks, newest first. */
  async history(options: HistoryOptions = {}): Promise<HistoryEntry[]> {
    const migrationId = options.migration ? findMigration(options.migration, await this.deps.load()).id : undefined;
    return this.deps.storage.history({ ...(migrationId ? { migrationId } : {}), ...(options.limit ? { limit: options.limit } : {}) });
  }

  /** Impact reports of pending migrations (or of one), computed without writing and without the lock. */
  async preview(options: PreviewOptions = {}): Promise<PreviewResult[]> {
    const { client, db, logger, batchSize, storage } = this.deps;
    const migrations = await this.deps.load();
    const records = new Map((await storage.records()).map((r) => [r._id, r]));
    const applied = (id: string) => {
      const record = records.get(id);
      return record !== undefined && isExecuted(record);
    };
    const targets = options.migration ? [findMigration(options.migration, migrations)] : migrations.filter((m) => !applied(m.id));
    const results: PreviewResult[] = [];
    for (const m of targets) {
      const state = records.get(m.id)?.status ?? 'pending';
      if (applied(m.id)) {
        results.push({ id: m.id, state, note: 'already applied; nothing to preview' });
      } else if (!m.module.preview) {
        results.push({ id: m.id, state, note: 'this migration has no preview' });
      } else {
        const connection = await this.deps.mongoose();
        const report = await m.module.preview(withConnection<Omit<PreviewContext, 'connection'>>({
          client,
          db,
          logger: logger.child({ migration: m.id }),
          migration: { id: m.id },
          batchSize,
          top: options.top ?? DEFAULT_PREVIEW_TOP,
          samples: options.samples ?? DEFAULT_PREVIEW_SAMPLES,
          measuredThroughput: async () =>
            (await storage.history({ limit: 20 }))
              // Runs at another batch size go at another speed (a tenth of the batch costs about twice the time).
              .filter((h) => h.direction === 'up' && h.outcome === 'applied' && (h.batchSize === undefined || h.batchSize === batchSize))
              .map((h) => h.counts?.docsPerSecond)
              .filter((v): v is number => typeof v === 'number' && v > 0),
        }, connection));
        results.push({ id: m.id, state, report });
      }
    }
    return results;
  }

  async #applied() {
    const migrations = await this.deps.load();
    const executed = new Set((await this.deps.storage.records()).filter(isExecuted).map((r) => r._id));
    return { migrations, executed };
  }
}

/** Applied migrations whose file changed (checksum) or is gone. */
export function computeDrift(migrations: readonly LoadedMigration[], records: readonly MigrationRecord[]): DriftEntry[] {
  const byId = new Map(migrations.map((m) => [m.id, m]));
  const drift: DriftEntry[] = [];
  for (const record of records) {
    if (!isExecuted(record)) continue;
    const m = byId.get(record._id);
    if (!m) drift.push({ id: record._id, kind: 'missing', recordedChecksum: record.checksum });
    else if (m.checksum !== record.checksum) drift.push({ id: record._id, kind: 'changed', recordedChecksum: record.checksum, currentChecksum: m.checksum });
  }
  return drift;
}
