import { EventEmitter } from 'node:events';
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import type { MigrationError, RunnableMigration, Umzug } from 'umzug';
import type { Logger } from 'winston';
import {
  ChecksumDriftError,
  DatabaseNotReadyError,
  InterruptedError,
  InvalidOptionError,
  MigrateErrorCode,
  MigrationAlreadyAppliedError,
  MigrationFailedError,
  MigrationFileMissingError,
  MigrationNotAppliedError,
  MigrationNotFoundError,
  PartlyRevertedError,
  findMigrateError,
  type DriftEntry,
  type LockHolder,
} from './errors.js';
import { findMigration, loadMigrations, type LoadedMigration } from './load-migrations.js';
import { createLogger } from './logger.js';
import type { Direction, ImpactReport, MigrationContext, PreviewContext, MigrationCounts, ProgressEvent } from './migration.js';
import type { Lease, MigrationLock, UnlockResult } from './migration-lock.js';
import type { MigrationSource } from './migration-source.js';
import { MigrationStatus, type HistoryEntry, type MigrationRecord, type StorageRunContext } from './migration-storage.js';
import { MongoLock } from './mongo-lock.js';
import { MongoMigrationStorage, isExecuted } from './mongo-migration-storage.js';
import { openMongooseConnection, withConnection, type MongooseConnection } from './mongoose-connection.js';
import { checkSameDriver } from './driver-version.js';
import { redactSecrets } from './redact.js';
import { confirmRollback, isPartialUp, planRollback } from './resolve-targets.js';
import { newRunIdentity, type RunIdentity } from './run-identity.js';
import { ServerClock } from './server-clock.js';
import { authenticationFailure } from './authentication-failure.js';
import { baseline, type BaselineOptions, type BaselineResult } from './storage/baseline.js';
import type { MaintenanceDeps } from './storage/maintenance.js';
import { findOutOfOrder, markOutOfOrder, refuseOutOfOrder } from './storage/out-of-order.js';
import { repair, type RepairOptions, type RepairResult } from './storage/repair.js';
import { DEFAULT_HISTORY_COLLECTION, DEFAULT_MIGRATIONS_COLLECTION } from './mongo-migration-storage.js';

export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_PREVIEW_TOP = 10;
export const DEFAULT_PREVIEW_SAMPLES = 5;
export const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 10_000;

export interface MigratorOptions {
  /** The app's connected client (mongodb 6 or 7). Give this or `connection`. */
  readonly client?: MongoClient;
  /** The app's connected Mongoose connection (Mongoose 8 or 9), in place of `client`; migrations get it as `ctx.connection`. */
  readonly connection?: MongooseConnection;
  /** Database of the data and of the migration state. Default: the connection's, else the one in the client's connection string. */
  readonly dbName?: string;
  /** Where migrations come from, in run order. */
  readonly sources: readonly MigrationSource[];
  /** Default: `createLogger()` (info and up, to stderr). */
  readonly logger?: Logger;
  /** Batch size handed to migrations. Default `DEFAULT_BATCH_SIZE` (1000). */
  readonly batchSize?: number;
  /** Lease term of the lock. Default `DEFAULT_LEASE_MS` (60 s). */
  readonly leaseMs?: number;
  /** How long `up`/`down` wait for another process's lock. Default `DEFAULT_LOCK_WAIT_TIMEOUT_MS` (5 min). */
  readonly lockWaitTimeoutMs?: number;
  /** Longest pause between lock tries. Default `DEFAULT_LOCK_POLL_MS` (500 ms). */
  readonly lockPollMs?: number;
  /** Name of the lock document. Default `DEFAULT_LOCK_NAME` (`migrations`). */
  readonly lockName?: string;
  /** Default `DEFAULT_MIGRATIONS_COLLECTION` (`migrations`). */
  readonly migrationsCollection?: string;
  /** Default `DEFAULT_HISTORY_COLLECTION` (`migration_history`). */
  readonly historyCollection?: string;
  /** Default `DEFAULT_LOCK_COLLECTION` (`migration_locks`). */
  readonly lockCollection?: string;
  /** Run `up` even when applied migrations changed. Default false. */
  readonly allowDrift?: boolean;
  /** Replaces the Mongo lease lock (tests, other coordination). */
  readonly lock?: MigrationLock;
  /** Apply a pending migration that sorts before an applied one of the same source. Default false (`OutOfOrderError`). */
  readonly allowOutOfOrder?: boolean;
}

export interface UpOptions {
  /** Apply up to and including this migration (id, name or number). */
  readonly to?: string;
  /** Apply this many pending migrations. */
  readonly step?: number;
  /** Apply only this migration. Throws `MigrationAlreadyAppliedError` if it is applied. */
  readonly migration?: string;
  /** Overrides `MigratorOptions.allowDrift`. */
  readonly allowDrift?: boolean;
  /** Overrides `MigratorOptions.allowOutOfOrder`. */
  readonly allowOutOfOrder?: boolean;
  /** Abort to stop at the next batch boundary. */
  readonly signal?: AbortSignal;
}

export interface DownOptions {
  /**
   * Revert down to and including this migration (with every migration applied after it); `0` reverts all.
   * Default: the last applied one, by recorded finish time.
   */
  readonly to?: string | 0;
  /** Revert this many, newest first. */
  readonly step?: number;
  /** Revert only this migration; also restores a partially applied (failed or killed) one. */
  readonly migration?: string;
  /**
   * The ids this call was confirmed for, newest first (as `downPlan` returned them). Under the lock it reverts those still
   * applied if they are still the last applied, nothing if none is, and throws `TargetChangedError` otherwise.
   * When given, it replaces what `to` and `step` select. Default: what `down` resolves before taking the lock, re-checked the same way.
   */
  readonly expect?: readonly string[];
  readonly signal?: AbortSignal;
}

export interface RunResult {
  readonly direction: Direction;
  readonly migrations: ReadonlyArray<{ readonly id: string; readonly counts?: MigrationCounts; readonly durationMs: number }>;
  /** True when nothing was eligible (no lock was needed or, after waiting, another process had done it). */
  readonly nothingToDo: boolean;
  /** Set when this call waited for the lock and the holder did the work meanwhile. */
  readonly doneByAnother?: true;
}

/** One migration as `status` shows it. */
export interface MigrationState {
  readonly id: string;
  readonly description?: string;
  readonly state: MigrationStatus | 'pending' | 'missing';
  readonly record?: MigrationRecord;
  readonly drift?: DriftEntry['kind'];
  readonly hasPreview: boolean;
}

export interface StatusReport {
  readonly migrations: readonly MigrationState[];
  readonly pending: number;
  /** Whether `up` has work to do. */
  readonly needed: boolean;
  readonly drift: readonly DriftEntry[];
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
  readonly ok: boolean;
  readonly drift: readonly DriftEntry[];
  readonly checked: number;
}

/** Events a migrator emits. */
export interface MigratorEvents {
  migrating: [{ id: string }];
  migrated: [{ id: string; counts?: MigrationCounts }];
  reverting: [{ id: string }];
  reverted: [{ id: string; counts?: MigrationCounts }];
  progress: [ProgressEvent];
  'lock-waiting': [LockHolder];
  'lock-acquired': [{ fence: string }];
}

interface RunContext extends StorageRunContext {
  readonly lease: Lease;
  readonly signal: AbortSignal;
}

const IDLE_CONTEXT = { counts: new Map() } as unknown as RunContext;

/**
 * Runs migrations from one or more sources against one database, through umzug, under a lease lock.
 * Safe to call `up()` from every replica at boot: one runs each migration, the others wait and find nothing pending.
 */
export class Migrator extends EventEmitter<MigratorEvents> {
  readonly logger: Logger;
  readonly db: Db;
  readonly #client: MongoClient;
  readonly #ownsClient: boolean;
  readonly #storage: MongoMigrationStorage;
  readonly #lock: MigrationLock;
  readonly #identity: RunIdentity = newRunIdentity();
  readonly #batchSize: number;
  #loaded: Promise<LoadedMigration[]> | undefined;
  #connection: Promise<MongooseConnection | string> | undefined;

  constructor(
    private readonly options: MigratorOptions,
    ownsClient = false,
  ) {
    super();
    this.#client = clientOf(options);
    this.#ownsClient = ownsClient;
    this.logger = options.logger ?? createLogger();
    this.db = this.#client.db(options.dbName ?? options.connection?.name);
    if (options.connection) {
      const own = options.connection;
      this.#connection = Promise.resolve(own.name === this.db.databaseName ? own : own.useDb(this.db.databaseName, { useCache: true }));
    }
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(this.#batchSize) || this.#batchSize < 1) {
      throw new InvalidOptionError(`batchSize must be a positive whole number (got ${options.batchSize}).`);
    }
    const clock = new ServerClock(this.db);
    this.#storage = new MongoMigrationStorage({
      db: this.db,
      clock,
      ...(options.migrationsCollection ? { collection: options.migrationsCollection } : {}),
      ...(options.historyCollection ? { historyCollection: options.historyCollection } : {}),
    });
    this.#lock =
      options.lock ??
      new MongoLock({
        db: this.db,
        identity: this.#identity,
        logger: this.logger,
        clock,
        onWait: (holder) => this.emit('lock-waiting', holder),
        ...(options.lockCollection ? { collection: options.lockCollection } : {}),
        ...(options.lockName ? { name: options.lockName } : {}),
        ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
        ...(options.lockWaitTimeoutMs !== undefined ? { waitTimeoutMs: options.lockWaitTimeoutMs } : {}),
        ...(options.lockPollMs ? { pollMs: options.lockPollMs } : {}),
      });
  }

  /**
   * Connects to `uri` and returns a migrator that owns the client (`close()` closes it).
   * Fails with `DatabaseNotReadyError` within the server selection timeout if the server cannot be reached.
   */
  static async connect(uri: string, options: Omit<MigratorOptions, 'client' | 'connection'> & { readonly clientOptions?: MongoClientOptions }): Promise<Migrator> {
    let client: MongoClient;
    try {
      client = new MongoClient(uri, { serverSelectionTimeoutMS: DEFAULT_SERVER_SELECTION_TIMEOUT_MS, ...options.clientOptions });
    } catch (error) {
      throw new InvalidOptionError(`The connection string is invalid: ${redactSecrets(error instanceof Error ? error.message : String(error))}. Expected mongodb://host[:port]/database.`, {
        cause: error,
      });
    }
    try {
      await client.connect();
      await client.db(options.dbName).command({ ping: 1 });
    } catch (error) {
      await client.close().catch(() => undefined);
      throw authenticationFailure(uri, error) ?? new DatabaseNotReadyError(redactSecrets(error instanceof Error ? error.message : String(error)), { cause: error });
    }
    return new Migrator({ ...options, client }, true);
  }

  /** Closes the client if this migrator opened it. */
  async close(): Promise<void> {
    if (this.#ownsClient) await this.#client.close();
  }

  /** Loads and checks every migration (once). Throws `MigrationLoadError` before anything runs. */
  async load(): Promise<readonly LoadedMigration[]> {
    this.#loaded ??= checkSameDriver(this.#client).then(() => loadMigrations(this.options.sources)).catch((error: unknown) => {
      this.#loaded = undefined;
      throw error;
    });
    return this.#loaded;
  }

  async status(): Promise<StatusReport> {
    const migrations = await this.load();
    const records = await this.#storage.records();
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
      if (!migrations.some((m) => m.id === record._id)) states.push({ id: record._id, state: 'missing', record, drift: 'missing', hasPreview: false });
    }
    const pending = states.filter((s) => s.state !== 'missing' && !(s.record && isExecuted(s.record))).length;
    const lock = await this.#lock.inspect();
    return { migrations: states, pending, needed: pending > 0, drift, ...(lock ? { lock } : {}) };
  }

  /** Ids of pending migrations, in run order. */
  async pending(): Promise<string[]> {
    return (await (await this.#umzug(undefined)).pending()).map((m) => m.name);
  }

  /** Ids of applied migrations, in run order. */
  async executed(): Promise<string[]> {
    return (await (await this.#umzug(undefined)).executed()).map((m) => m.name);
  }

  /** Impact reports of pending migrations (or of one), computed without writing and without the lock. */
  async preview(options: PreviewOptions = {}): Promise<PreviewResult[]> {
    const migrations = await this.load();
    const executed = new Set(await this.#storage.executed());
    const records = new Map((this.#storage.lastRead ?? []).map((r) => [r._id, r]));
    const targets = options.migration ? [findMigration(options.migration, migrations)] : migrations.filter((m) => !executed.has(m.id));
    const results: PreviewResult[] = [];
    for (const m of targets) {
      const state = records.get(m.id)?.status ?? 'pending';
      if (executed.has(m.id)) {
        results.push({ id: m.id, state, note: 'already applied; nothing to preview' });
      } else if (!m.module.preview) {
        results.push({ id: m.id, state, note: 'this migration has no preview' });
      } else {
        const connection = await this.#mongoose();
        const report = await m.module.preview(withConnection<Omit<PreviewContext, 'connection'>>({
          client: this.#client,
          db: this.db,
          logger: this.logger.child({ migration: m.id }),
          migration: { id: m.id },
          batchSize: this.#batchSize,
          top: options.top ?? DEFAULT_PREVIEW_TOP,
          samples: options.samples ?? DEFAULT_PREVIEW_SAMPLES,
          measuredThroughput: async () =>
            (await this.#storage.history({ limit: 20 }))
              .filter((h) => h.direction === 'up' && h.outcome === 'applied')
              .map((h) => h.counts?.docsPerSecond)
              .filter((v): v is number => typeof v === 'number' && v > 0),
        }, connection));
        results.push({ id: m.id, state, report });
      }
    }
    return results;
  }

  /**
   * Applies pending migrations. When nothing is pending it returns after one round trip, without the lock.
   * Otherwise it takes the lock, re-reads what is applied and runs what is still pending.
   */
  async up(options: UpOptions = {}): Promise<RunResult> {
    const { migrations, named, to, executed } = await this.#targets(options);
    refusePartlyReverted(this.#storage.lastRead ?? []);
    if (named && executed.has(named.id)) throw new MigrationAlreadyAppliedError(named.id);
    const pending = migrations.filter((m) => !executed.has(m.id));
    const eligible = named ? [named] : to ? pending.filter((m) => migrations.indexOf(m) <= migrations.indexOf(to)) : pending;
    if (eligible.length === 0) return { direction: 'up', migrations: [], nothingToDo: true };
    const outOfOrder = findOutOfOrder(migrations, this.#storage.lastRead ?? [], eligible);
    if (!(options.allowOutOfOrder ?? this.options.allowOutOfOrder)) refuseOutOfOrder(outOfOrder);
    if (!(options.allowDrift ?? this.options.allowDrift)) {
      const drift = computeDrift(migrations, this.#storage.lastRead ?? []);
      if (drift.length > 0) throw new ChecksumDriftError(drift);
    }
    // While another replica holds the lock, keep checking whether it has applied our work; if so, stop waiting.
    // Only `applied` counts: a migration another process is reverting is not done.
    const stillNeeded = async () => {
      const applied = new Set((await this.#storage.records()).filter((r) => r.status === MigrationStatus.applied).map((r) => r._id));
      return eligible.some((m) => !applied.has(m.id));
    };
    const result = await this.#underLock('up', options.signal, stillNeeded, async (umzug) => {
      refusePartlyReverted(await this.#storage.records());
      if (named) return umzug.up({ migrations: [named.id], rerun: 'SKIP' });
      if (to) {
        // Every migration up to `to` that is still pending, even when `to` itself is applied.
        const stillPending = new Set((await umzug.pending()).map((m) => m.name));
        const ids = migrations.slice(0, migrations.indexOf(to) + 1).filter((m) => stillPending.has(m.id)).map((m) => m.id);
        return ids.length > 0 ? umzug.up({ migrations: ids, rerun: 'SKIP' }) : [];
      }
      return options.step !== undefined ? umzug.up({ step: options.step }) : umzug.up();
    });
    const ranOutOfOrder = result.migrations.filter((m) => outOfOrder.some((o) => o.id === m.id)).map((m) => m.id);
    await markOutOfOrder(this.db, this.#collections(), ranOutOfOrder);
    return result;
  }

  /** Marks every migration up to and including `migration` as applied without running it (adopting an existing database). */
  async baseline(migration: string, options: BaselineOptions = {}): Promise<BaselineResult> {
    return baseline(await this.#maintenance(), migration, options);
  }

  /** Accepts current checksums of applied migrations, or resolves one migration's record, without running anything. */
  async repair(options: RepairOptions): Promise<RepairResult> {
    return repair(await this.#maintenance(), options);
  }

  #collections() {
    return {
      migrations: this.options.migrationsCollection ?? DEFAULT_MIGRATIONS_COLLECTION,
      history: this.options.historyCollection ?? DEFAULT_HISTORY_COLLECTION,
    };
  }

  async #maintenance(): Promise<MaintenanceDeps> {
    const clock = new ServerClock(this.db);
    return { db: this.db, collections: this.#collections(), lock: this.#lock, identity: this.#identity, migrations: await this.load(), now: () => clock.now() };
  }

  /**
   * Reverts the last applied migration (by recorded finish time), or down to `to`, or `step` of them, or one named migration.
   * The target is resolved before the lock and re-checked under it: a rollback meant for X reverts X or nothing.
   */
  async down(options: DownOptions = {}): Promise<RunResult> {
    const { planned, named, runOrder, executed, migrations } = await this.#planDown(options);
    const drift = computeDrift(migrations, this.#storage.lastRead ?? []).filter((d) => executed.has(d.id));
    if (drift.length > 0) this.logger.warn('rolling back migrations whose files changed since they ran', { drift });
    // While another process holds the lock, stop waiting once it has reverted every planned migration.
    const stillNeeded = async () => {
      const records = await this.#storage.records();
      return records.some((r) => planned.includes(r._id) && (isExecuted(r) || (named !== undefined && isPartialUp(r))));
    };
    return this.#underLock('down', options.signal, stillNeeded, async (umzug) => {
      const records = await this.#storage.records();
      if (named) {
        const record = records.find((r) => r._id === named.id);
        if (!record || !(isExecuted(record) || isPartialUp(record))) return [];
        return umzug.down({ migrations: [named.id], rerun: 'ALLOW' });
      }
      const ids = confirmRollback(planned, records, runOrder);
      return ids.length > 0 ? umzug.down({ migrations: ids, rerun: 'ALLOW' }) : [];
    });
  }

  /**
   * The ids `down(options)` would revert now, newest first, read without the lock. Pass them as `expect` to revert
   * exactly those (for example after asking for confirmation).
   */
  async downPlan(options: Omit<DownOptions, 'expect' | 'signal'> = {}): Promise<string[]> {
    return [...(await this.#planDown(options)).planned];
  }

  /** Resolves a rollback's targets from the records (one round trip); throws when it cannot be done exactly. */
  async #planDown(options: DownOptions) {
    const { migrations, named, to, executed } = await this.#targets(options);
    const records = this.#storage.lastRead ?? [];
    const runOrder = migrations.map((m) => m.id);
    let planned: readonly string[];
    if (named) {
      const record = records.find((r) => r._id === named.id);
      if (!executed.has(named.id) && !(record && isPartialUp(record))) throw new MigrationNotAppliedError(named.id);
      if (options.expect && (options.expect.length !== 1 || options.expect[0] !== named.id)) {
        throw new InvalidOptionError(`Options migration and expect disagree: expect must be ["${named.id}"] (got ${JSON.stringify(options.expect)}).`);
      }
      planned = [named.id];
    } else if (options.expect) {
      for (const id of options.expect) {
        if (runOrder.includes(id)) continue;
        if (records.some((r) => r._id === id)) throw new MigrationFileMissingError(id);
        throw new MigrationNotFoundError(id, runOrder);
      }
      planned = options.expect;
    } else {
      planned = planRollback(records, runOrder, { ...(options.to === 0 ? { to: 0 } : {}), ...(to ? { toId: to.id } : {}), ...(options.step !== undefined ? { step: options.step } : {}) });
    }
    return { planned, named, runOrder, executed, migrations };
  }

  /** Finished runs and rollbacks, newest first. */
  async history(options: { readonly migration?: string; readonly limit?: number } = {}): Promise<HistoryEntry[]> {
    const migrationId = options.migration ? findMigration(options.migration, await this.load()).id : undefined;
    return this.#storage.history({ ...(migrationId ? { migrationId } : {}), ...(options.limit ? { limit: options.limit } : {}) });
  }

  /** Applied migrations whose file changed or is missing. */
  async verify(): Promise<VerifyReport> {
    const migrations = await this.load();
    const records = await this.#storage.records();
    const drift = computeDrift(migrations, records);
    return { ok: drift.length === 0, drift, checked: records.filter(isExecuted).length };
  }

  /** Removes an expired lease; with `force`, any lease. */
  async unlock(options: { readonly force?: boolean } = {}): Promise<UnlockResult> {
    return this.#lock.unlock(options);
  }

  /** Checks `to`/`step`/`migration`, resolves the references, and reads what is applied (one round trip). */
  async #targets(options: { readonly to?: string | 0; readonly step?: number; readonly migration?: string }) {
    exclusive(options, ['to', 'step', 'migration']);
    if (options.step !== undefined) positiveStep(options.step);
    const migrations = await this.load();
    const named = options.migration ? findMigration(options.migration, migrations) : undefined;
    const to = options.to ? findMigration(options.to, migrations) : undefined;
    const executed = new Set(await this.#storage.executed());
    return { migrations, named, to, executed };
  }

  async #underLock(
    direction: Direction,
    signal: AbortSignal | undefined,
    stillNeeded: (() => Promise<boolean>) | undefined,
    run: (umzug: Umzug<RunContext>) => Promise<Array<{ name: string }>>,
  ): Promise<RunResult> {
    const lease = await this.#lock.acquire({ ...(signal ? { signal } : {}), ...(stillNeeded ? { stillNeeded } : {}) });
    if (!lease) return { direction, migrations: [], nothingToDo: true, doneByAnother: true };
    this.emit('lock-acquired', { fence: lease.fence });
    const context: RunContext = { lease, signal: signal ?? new AbortController().signal, fence: lease.fence, counts: new Map() };
    const durations = new Map<string, number>();
    const umzug = await this.#umzug(context);
    const started = new Map<string, number>();
    umzug.on(direction === 'up' ? 'migrating' : 'reverting', ({ name }) => {
      started.set(name, performance.now());
      this.logger.info(direction === 'up' ? 'applying migration' : 'reverting migration', { migration: name });
      this.emit(direction === 'up' ? 'migrating' : 'reverting', { id: name });
    });
    umzug.on(direction === 'up' ? 'migrated' : 'reverted', ({ name }) => {
      const durationMs = Math.round(performance.now() - (started.get(name) ?? performance.now()));
      durations.set(name, durationMs);
      const counts = context.counts.get(name);
      this.logger.info(direction === 'up' ? 'migration applied' : 'migration reverted', { migration: name, durationMs, counts });
      this.emit(direction === 'up' ? 'migrated' : 'reverted', { id: name, ...(counts ? { counts } : {}) });
    });
    try {
      const ran = await run(umzug);
      return {
        direction,
        nothingToDo: ran.length === 0,
        migrations: ran.map(({ name }) => {
          const counts = context.counts.get(name);
          return { id: name, ...(counts ? { counts } : {}), durationMs: durations.get(name) ?? 0 };
        }),
      };
    } catch (error) {
      throw toMigrateError(error);
    } finally {
      await lease.release();
    }
  }

  /** The Mongoose connection of `ctx.connection`, opened once, when a migration first runs (or the reason it cannot be). */
  #mongoose(): Promise<MongooseConnection | string> {
    this.#connection ??= openMongooseConnection(this.#client, this.db.databaseName);
    return this.#connection;
  }

  /** umzug is imported when first needed: `status`, `preview` and a no-op boot `up()` never load it (it is slow to load). */
  async #umzug(context: RunContext | undefined): Promise<Umzug<RunContext>> {
    const { Umzug } = await import('umzug');
    const runnable = async (): Promise<Array<RunnableMigration<RunContext>>> =>
      (await this.load()).map((m) => ({
        name: m.id,
        path: m.path,
        up: ({ context: ctx }) => this.#execute(m, 'up', ctx),
        down: ({ context: ctx }) => this.#execute(m, 'down', ctx),
      }));
    return new Umzug<RunContext>({
      migrations: runnable,
      storage: this.#storage,
      // Listing commands (pending, executed) need no run; only #execute uses a real one.
      context: () => context ?? IDLE_CONTEXT,
      logger: undefined,
    });
  }

  async #execute(m: LoadedMigration, direction: Direction, run: RunContext): Promise<void> {
    if (run === IDLE_CONTEXT) throw new InvalidOptionError('internal: a migration ran outside a locked run');
    run.lease.assertHeld();
    if (run.signal.aborted) throw new InterruptedError();
    const record = await this.#storage.begin({
      id: m.id,
      direction,
      checksum: m.checksum,
      source: { namespace: m.namespace, ...(m.source.version ? { version: m.source.version } : {}) },
      identity: this.#identity,
      fence: run.lease.fence,
    });
    if (record.checkpoint !== undefined) this.logger.info('resuming from checkpoint', { migration: m.id, direction });
    const connection = await this.#mongoose();
    const ctx: MigrationContext = withConnection<Omit<MigrationContext, 'connection'>>({
      client: this.#client,
      db: this.db,
      logger: this.logger.child({ migration: m.id }),
      migration: { id: m.id, direction, runId: this.#identity.runId, startedAt: record.startedAt, runAt: record.runAt },
      batchSize: this.#batchSize,
      signal: run.signal,
      lease: run.lease,
      checkpoint: {
        load: <T>() => record.checkpoint as T | undefined,
        save: (value: unknown) => this.#storage.saveCheckpoint(m.id, run.lease.fence, value),
      },
      progress: (event) => this.emit('progress', { ...event, migrationId: m.id }),
    }, connection);
    try {
      const counts = await m.module[direction](ctx);
      run.counts.set(m.id, counts ?? undefined);
    } catch (error) {
      // A lost lease means another process owns the record now: leave it alone.
      if (!findMigrateError(error, MigrateErrorCode.LockLost)) {
        const interrupted = !!findMigrateError(error, MigrateErrorCode.Interrupted);
        await this.#storage
          .finish(m.id, run.lease.fence, interrupted ? 'interrupted' : 'failed', { error: redactSecrets(error instanceof Error ? error.message : String(error)) })
          .catch((e: unknown) => this.logger.error('could not record the failure', { migration: m.id, error: String(e) }));
      }
      throw error;
    }
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

/** `up` refuses to run past a migration whose rollback is running or was cut short: it would call it applied. */
function refusePartlyReverted(records: readonly MigrationRecord[]): void {
  const partly = records.find((r) => r.direction === 'down' && (r.status === MigrationStatus.reverting || r.status === MigrationStatus.failed));
  if (partly) throw new PartlyRevertedError(partly._id);
}

function clientOf(options: MigratorOptions): MongoClient {
  if (options.client && options.connection) throw new InvalidOptionError('Give the Migrator either `client` or `connection`, not both.');
  if (options.connection) {
    const client = options.connection.getClient();
    if (!client) throw new InvalidOptionError('The Mongoose `connection` has no client yet: await mongoose.connect(uri) (or createConnection(uri).asPromise()) first.');
    return client;
  }
  if (!options.client) throw new InvalidOptionError('The Migrator needs a connected `client` (MongoClient) or a Mongoose `connection`.');
  return options.client;
}

function exclusive(options: object, keys: readonly string[]): void {
  const given = keys.filter((k) => (options as Record<string, unknown>)[k] !== undefined);
  if (given.length > 1) throw new InvalidOptionError(`Options ${given.join(' and ')} cannot be combined; give one of ${keys.join(', ')}.`);
}

function positiveStep(step: number): void {
  if (!Number.isInteger(step) || step < 1) throw new InvalidOptionError(`step must be a positive whole number (got ${step}).`);
}

/** umzug wraps a migration's error; wrap it ours: name, direction, and the original as `cause`. */
function toMigrateError(error: unknown): unknown {
  // umzug's own class, recognised by shape: it is imported lazily.
  const migration = (error as Partial<MigrationError> | null)?.migration;
  if (error instanceof Error && error.name === 'MigrationError' && migration) {
    const { name, direction } = migration;
    return new MigrationFailedError(name, direction, error.cause ?? error);
  }
  return error;
}
