import { EventEmitter } from 'node:events';
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import type { MigrationError, RunnableMigration, Umzug } from 'umzug';
import type { Logger } from 'winston';
import { ConnectionString } from 'mongodb-connection-string-url';
import { checkDatabaseChoice } from './database-name.js';
import { authenticationFailure } from './authentication-failure.js';
import { checkSameDriver } from './driver-version.js';
import { messageOf } from './driver-errors.js';
import { DatabaseNotReadyError, InvalidOptionError, MigrationFailedError, type LockHolder } from './errors.js';
import { assertMayContinue, type Lease, type MigrationLock, type UnlockResult } from './lock/migration-lock.js';
import { MongoLock } from './lock/mongo-lock.js';
import { newRunIdentity, type RunIdentity } from './lock/run-identity.js';
import { createLogger } from './logger.js';
import type { Direction, MigrationContext, MigrationCounts, ProgressEvent } from './migration.js';
import { onDatabase, openMongooseConnection, withConnection, type MongooseConnection } from './mongoose-connection.js';
import { redactSecrets } from './redact.js';
import { checkTargetOptions, confirmRollback, isPartialDown, isPartialUp, planDown, planUp, refuseBaselined, refusePartlyReverted } from './resolve-targets.js';
import { ServerClock } from './server-clock.js';
import { checkConcurrency } from './toolkit/backup-document.js';
import { findMigration, loadMigrations, type LoadedMigration } from './sources/load-migrations.js';
import type { MigrationSource } from './sources/migration-source.js';
import {
  StateReader,
  computeDrift,
  type HistoryOptions,
  type PreviewOptions,
  type PreviewResult,
  type StatusReport,
  type VerifyReport,
} from './state-reader.js';
import { MigrationStatus, isExecuted, type HistoryEntry, type MigrationRecord, type MigrationStorage } from './storage/migration-storage.js';
import { MongoMigrationStorage } from './storage/mongo-migration-storage.js';
import { baseline, type BaselineOptions, type BaselineResult } from './storage/baseline.js';
import type { MaintenanceDeps } from './storage/maintenance.js';
import { findOutOfOrder, refuseOutOfOrder } from './storage/out-of-order.js';
import { RecordKeeper } from './storage/record-keeper.js';
import { repair, type RepairOptions, type RepairResult } from './storage/repair.js';

export const DEFAULT_BATCH_SIZE = 1000;
/** Batches of data work the toolkit keeps in flight at once: one written while the next is read and backed up. */
export const DEFAULT_CONCURRENCY = 2;
/** `serverSelectionTimeoutMS` of a client `Migrator.connect` opens: how long an unreachable server takes to fail. */
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
  /**
   * Batches of data work handed to migrations to run at once (the toolkit's `concurrency`): each batch is still backed
   * up before it is written, and checkpoints stay in order. 1 runs one batch at a time. Default `DEFAULT_CONCURRENCY`
   * (2); at most `MAX_CONCURRENCY` (16).
   */
  readonly concurrency?: number;
  /** Lease term of the lock. Default `DEFAULT_LEASE_MS` (60 s); at least 1000. */
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
  /** Apply a pending migration that sorts before an applied one of the same source. Default false (`OutOfOrderError`). */
  readonly allowOutOfOrder?: boolean;
  /**
   * The app's own lock (another coordination service), in place of the Mongo lease lock (`MongoLock`). It must keep
   * the `MigrationLock` contract; the lock options above (`leaseMs`, `lockWaitTimeoutMs`, `lockPollMs`, `lockName`,
   * `lockCollection`) then do not apply, and no `lock-waiting` events are emitted. Default: a `MongoLock` in the database.
   */
  readonly lock?: MigrationLock;
  /**
   * The app's own record and history storage, in place of `MongoMigrationStorage`. It must keep the `MigrationStorage`
   * contract (fenced writes, server time); `migrationsCollection` and `historyCollection` then do not apply.
   * Default: a `MongoMigrationStorage` in the database.
   */
  readonly storage?: MigrationStorage;
}

/** What `Migrator.connect` takes: the options minus the client, plus the driver's client options. */
export type ConnectOptions = Omit<MigratorOptions, 'client' | 'connection'> & { readonly clientOptions?: MongoClientOptions };

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

/** What umzug is asked to run under the lock: these ids, or (for a plain `up`) every pending one or `step` of them. */
type Selection = { readonly ids: readonly string[] } | { readonly step?: number };

/** One locked run: its lease and signal, and what each migration returned (for events and the result). */
interface Run {
  readonly lease: Lease;
  /** Migrations this run applies out of order (`allowOutOfOrder`); their records and history say so. */
  readonly outOfOrder: ReadonlySet<string>;
  readonly signal: AbortSignal;
  readonly counts: Map<string, MigrationCounts | undefined>;
}

/** Errors that umzug wraps but that are not the migration's own: the run reports them as they are. */
const notTheMigrations = new WeakSet<object>();

/**
 * Runs migrations from one or more sources against one database, under a lease lock: `up` and `down`, nothing else.
 * Reading state (status, pending, verify, history, preview) is the `StateReader`'s job (`migrator.state`, also
 * reachable through the methods of the same names); the record of each attempt is the `RecordKeeper`'s.
 * Safe to call `up()` from every replica at boot: one runs each migration, the others wait and find nothing pending.
 */
export class Migrator extends EventEmitter<MigratorEvents> {
  readonly logger: Logger;
  readonly db: Db;
  /** Lock-free reads of the migration state. */
  readonly state: StateReader;
  readonly #client: MongoClient;
  readonly #ownsClient: boolean;
  readonly #storage: MigrationStorage;
  readonly #records: RecordKeeper;
  readonly #lock: MigrationLock;
  readonly #identity: RunIdentity = newRunIdentity();
  readonly #batchSize: number;
  readonly #concurrency: number;
  readonly #clock: ServerClock;
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
    checkDatabaseChoice(this.#client, options);
    this.db = this.#client.db(options.dbName ?? options.connection?.name);
    if (options.connection) this.#connection = Promise.resolve(onDatabase(options.connection, this.db.databaseName));
    this.#batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(this.#batchSize) || this.#batchSize < 1) {
      throw new InvalidOptionError(`batchSize must be a positive whole number (got ${options.batchSize}).`);
    }
    this.#concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    checkConcurrency(this.#concurrency);
    const clock = (this.#clock = new ServerClock(this.db));
    this.#storage = options.storage ?? mongoStorage(options, this.db, clock);
    this.#records = new RecordKeeper(this.#storage, this.#identity, this.logger);
    this.#lock = options.lock ?? mongoLock(options, this.db, clock, this.#identity, this.logger, (holder) => this.emit('lock-waiting', holder));
    this.state = new StateReader({
      load: () => this.load(),
      storage: this.#storage,
      lock: this.#lock,
      client: this.#client,
      db: this.db,
      logger: this.logger,
      batchSize: this.#batchSize,
      mongoose: () => this.#mongoose(),
    });
  }

  /**
   * Connects to `uri` and returns a migrator that owns the client (`close()` closes it).
   * Fails with `DatabaseNotReadyError` within the server selection timeout if the server cannot be reached.
   */
  static async connect(uri: string, options: ConnectOptions): Promise<Migrator> {
    let client: MongoClient;
    try {
      // The driver takes an empty host (`mongodb://a:1,/db`) and then fails to connect with a runtime error, outside
      // any promise: said here, as the bad input it is.
      if (new ConnectionString(uri).hosts.some((host) => host === '')) throw new Error('its host list has an empty entry (a stray comma?)');
      client = new MongoClient(uri, { serverSelectionTimeoutMS: DEFAULT_SERVER_SELECTION_TIMEOUT_MS, ...options.clientOptions });
    } catch (error) {
      throw new InvalidOptionError(`The connection string is invalid: ${redactSecrets(messageOf(error))}. Expected mongodb://host[:port]/database.`, {
        cause: error,
      });
    }
    checkDatabaseChoice(client, options);
    try {
      await client.connect();
      await client.db(options.dbName).command({ ping: 1 });
    } catch (error) {
      await client.close().catch(() => undefined);
      throw authenticationFailure(uri, error) ?? new DatabaseNotReadyError(redactSecrets(messageOf(error)), { cause: error });
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

  /** See `StateReader.status`. */
  async status(): Promise<StatusReport> {
    return this.state.status();
  }

  /** Ids of pending migrations, in run order. */
  async pending(): Promise<string[]> {
    return this.state.pending();
  }

  /** Ids of applied migrations, in run order. */
  async executed(): Promise<string[]> {
    return this.state.executed();
  }

  /** Impact reports of pending migrations (or of one), computed without writing and without the lock. */
  async preview(options: PreviewOptions = {}): Promise<PreviewResult[]> {
    return this.state.preview(options);
  }

  /** Finished runs and rollbacks, newest first. */
  async history(options: HistoryOptions = {}): Promise<HistoryEntry[]> {
    return this.state.history(options);
  }

  /** Applied migrations whose file changed or is missing. */
  async verify(): Promise<VerifyReport> {
    return this.state.verify();
  }

  /**
   * Marks every migration of its source up to and including `migration` (run order) as applied without running it, under the lock:
   * how a database that already holds the data adopts migrations. Each gets a `baseline` history entry.
   */
  async baseline(migration: string, options: BaselineOptions = {}): Promise<BaselineResult> {
    return baseline(await this.#maintenance(), migration, options);
  }

  /**
   * Changes recorded state without running anything, under the lock: accepts the current checksums of applied
   * migrations (clearing drift), or resolves one migration's record as applied or pending. Each change is in history.
   */
  async repair(options: RepairOptions): Promise<RepairResult> {
    return repair(await this.#maintenance(), options);
  }

  async #maintenance(): Promise<MaintenanceDeps> {
    return { storage: this.#storage, lock: this.#lock, identity: this.#identity, migrations: await this.load(), now: () => this.#clock.now() };
  }

  /** Removes an expired lease; with `force`, any lease. */
  async unlock(options: { readonly force?: boolean } = {}): Promise<UnlockResult> {
    return this.#lock.unlock(options);
  }

  /**
   * Applies pending migrations. When nothing is pending it returns after one round trip, without the lock.
   * Otherwise it takes the lock, re-reads the records once and runs what is still pending.
   */
  async up(options: UpOptions = {}): Promise<RunResult> {
    const { migrations, named, to, records } = await this.#read(options);
    const allowDrift = options.allowDrift ?? this.options.allowDrift;
    const eligible = planUp(migrations, records, { named, to }, () => (allowDrift ? [] : computeDrift(migrations, records)));
    if (eligible.length === 0) return { direction: 'up', migrations: [], nothingToDo: true };
    const outOfOrder = findOutOfOrder(migrations, records, eligible);
    if (!(options.allowOutOfOrder ?? this.options.allowOutOfOrder)) refuseOutOfOrder(outOfOrder);
    // While another replica holds the lock, keep checking whether it has applied our work; if so, stop waiting.
    // Only `applied` counts: a migration another process is reverting is not done.
    const stillNeeded = async () => {
      const applied = new Set((await this.#storage.records()).filter((r) => r.status === MigrationStatus.applied).map((r) => r._id));
      return eligible.some((m) => !applied.has(m.id));
    };
    // Filled under the lock, from the records read there: what this run applies out of order.
    const late = new Set<string>();
    return this.#underLock('up', options.signal, stillNeeded, late, (current): Selection => {
      refusePartlyReverted(current, named?.id);
      const lateNow = findOutOfOrder(migrations, current, eligible);
      if (!(options.allowOutOfOrder ?? this.options.allowOutOfOrder)) refuseOutOfOrder(lateNow);
      for (const o of lateNow) late.add(o.id);
      if (named) return { ids: [named.id] };
      if (to) {
        // Every migration up to `to` that is still pending, even when `to` itself is applied.
        const applied = new Set(current.filter(isExecuted).map((r) => r._id));
        return { ids: migrations.slice(0, migrations.indexOf(to) + 1).filter((m) => !applied.has(m.id)).map((m) => m.id) };
      }
      return options.step !== undefined ? { step: options.step } : {};
    });
  }

  /**
   * Reverts the last applied migration (by recorded finish time), or down to `to`, or `step` of them, or one named migration.
   * The target is resolved before the lock and re-checked under it: a rollback meant for X reverts X or nothing.
   */
  async down(options: DownOptions = {}): Promise<RunResult> {
    const { planned, named, runOrder, migrations, records } = await this.#planDown(options);
    const drift = computeDrift(migrations, records.filter(isExecuted));
    if (drift.length > 0) this.logger.warn('rolling back migrations whose files changed since they ran', { drift });
    // While another process holds the lock, stop waiting once it has reverted every planned migration.
    const stillNeeded = async () => {
      const current = await this.#storage.records();
      return current.some((r) => planned.includes(r._id) && (isExecuted(r) || (named !== undefined && isPartialUp(r))));
    };
    return this.#underLock('down', options.signal, stillNeeded, new Set(), (current): Selection => {
      if (named) {
        const record = current.find((r) => r._id === named.id);
        refuseBaselined([named.id], current);
        return { ids: record && (isExecuted(record) || isPartialUp(record)) ? [named.id] : [] };
      }
      const ids = confirmRollback(planned, current, runOrder);
      refuseBaselined(ids, current);
      return { ids };
    });
  }

  /**
   * The ids `down(options)` would revert now, newest first, read without the lock. Pass them as `expect` to revert
   * exactly those (for example after asking for confirmation).
   */
  async downPlan(options: Omit<DownOptions, 'expect' | 'signal'> = {}): Promise<string[]> {
    return [...(await this.#planDown(options)).planned];
  }

  /** Resolves a rollback's targets from one read of the records; throws when it cannot be done exactly. */
  async #planDown(options: DownOptions) {
    const { migrations, named, to, records } = await this.#read(options);
    const runOrder = migrations.map((m) => m.id);
    const planned = planDown(runOrder, records, {
      named: named?.id,
      toId: to?.id,
      ...(options.to === 0 ? { to: 0 as const } : {}),
      ...(options.step !== undefined ? { step: options.step } : {}),
      ...(options.expect ? { expect: options.expect } : {}),
    });
    refuseBaselined(planned, records);
    return { planned, named, runOrder, migrations, records };
  }

  /** Checks `to`/`step`/`migration`, resolves the references, and reads the records (one round trip). */
  async #read(options: { readonly to?: string | 0; readonly step?: number; readonly migration?: string }) {
    checkTargetOptions(options);
    const migrations = await this.load();
    const named = options.migration ? findMigration(options.migration, migrations) : undefined;
    const to = options.to ? findMigration(options.to, migrations) : undefined;
    const records = await this.#storage.records();
    return { migrations, named, to, records };
  }

  /** Takes the lock, reads the records once under it, and runs what `select` picks from them through umzug. */
  async #underLock(
    direction: Direction,
    signal: AbortSignal | undefined,
    stillNeeded: () => Promise<boolean>,
    outOfOrder: ReadonlySet<string>,
    select: (records: readonly MigrationRecord[]) => Selection,
  ): Promise<RunResult> {
    const lease = await this.#lock.acquire({ ...(signal ? { signal } : {}), stillNeeded });
    if (!lease) return { direction, migrations: [], nothingToDo: true, doneByAnother: true };
    this.emit('lock-acquired', { fence: lease.fence });
    const run: Run = { lease, outOfOrder, signal: signal ?? new AbortController().signal, counts: new Map() };
    const durations = new Map<string, number>();
    try {
      const records = await this.#storage.records();
      const selection = select(records);
      if ('ids' in selection && selection.ids.length === 0) return { direction, migrations: [], nothingToDo: true };
      const umzug = await this.#umzug(run, records, direction);
      const started = new Map<string, number>();
      umzug.on(direction === 'up' ? 'migrating' : 'reverting', ({ name }) => {
        started.set(name, performance.now());
        this.logger.info(direction === 'up' ? 'applying migration' : 'reverting migration', { migration: name });
        this.emit(direction === 'up' ? 'migrating' : 'reverting', { id: name });
      });
      umzug.on(direction === 'up' ? 'migrated' : 'reverted', ({ name }) => {
        const durationMs = Math.round(performance.now() - (started.get(name) ?? performance.now()));
        durations.set(name, durationMs);
        const counts = run.counts.get(name);
        this.logger.info(direction === 'up' ? 'migration applied' : 'migration reverted', { migration: name, durationMs, counts });
        this.emit(direction === 'up' ? 'migrated' : 'reverted', { id: name, ...(counts ? { counts } : {}) });
      });
      const ran =
        'ids' in selection
          ? direction === 'up'
            ? await umzug.up({ migrations: [...selection.ids], rerun: 'SKIP' })
            : await umzug.down({ migrations: [...selection.ids], rerun: 'ALLOW' })
          : await umzug.up(selection.step !== undefined ? { step: selection.step } : {});
      return {
        direction,
        nothingToDo: ran.length === 0,
        migrations: ran.map(({ name }) => {
          const counts = run.counts.get(name);
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

  /**
   * An umzug for one locked run: it orders the migrations, applies `to`/`step`/`migrations` and emits the events.
   * Its storage answers from the records read under the lock; the `RecordKeeper` writes them, so umzug's own
   * `logMigration`/`unlogMigration` do nothing. umzug is imported here, when first needed: `status`, `preview` and a
   * no-op boot `up()` never load it (it is slow to load).
   */
  async #umzug(run: Run, records: readonly MigrationRecord[], direction: Direction): Promise<Umzug<object>> {
    const { Umzug } = await import('umzug');
    // A partly reverted migration is not applied for `up` (only `up` of it by name gets this far and re-applies it).
    const executed = records.filter((r) => isExecuted(r) && !(direction === 'up' && isPartialDown(r))).map((r) => r._id);
    const runnable = async (): Promise<Array<RunnableMigration<object>>> =>
      (await this.load()).map((m) => ({
        name: m.id,
        path: m.path,
        up: () => this.#execute(m, 'up', run),
        down: () => this.#execute(m, 'down', run),
      }));
    return new Umzug<object>({
      migrations: runnable,
      storage: { executed: async () => executed, logMigration: async () => undefined, unlogMigration: async () => undefined },
      context: {},
      logger: undefined,
    });
  }

  /** Runs one migration in one direction, from the started record to the finished one. */
  async #execute(m: LoadedMigration, direction: Direction, run: Run): Promise<void> {
    assertMayContinue(run.signal, run.lease);
    const attempt = await this.#records.begin(m, direction, run.lease, { outOfOrder: direction === 'up' && run.outOfOrder.has(m.id), batchSize: this.#batchSize });
    const connection = await this.#mongoose();
    const ctx: MigrationContext = withConnection<Omit<MigrationContext, 'connection'>>({
      client: this.#client,
      db: this.db,
      logger: this.logger.child({ migration: m.id }),
      migration: { id: m.id, direction, runId: this.#identity.runId, startedAt: attempt.record.startedAt, runAt: attempt.record.runAt },
      batchSize: this.#batchSize,
      concurrency: this.#concurrency,
      signal: run.signal,
      lease: run.lease,
      checkpoint: attempt.checkpoint,
      progress: (event) => this.emit('progress', { ...event, migrationId: m.id }),
      progressFollowed: this.listenerCount('progress') > 0,
    }, connection);
    let counts: MigrationCounts | undefined;
    try {
      counts = (await m.module[direction](ctx)) ?? undefined;
    } catch (error) {
      await attempt.fail(error);
      throw error;
    }
    try {
      await attempt.succeed(counts);
    } catch (error) {
      // The migration succeeded; recording it did not (a lost lease, say): report that as it is.
      if (typeof error === 'object' && error !== null) notTheMigrations.add(error);
      throw error;
    }
    run.counts.set(m.id, counts);
  }
}

/** The default storage: records and history in the migrator's database. */
function mongoStorage(options: MigratorOptions, db: Db, clock: ServerClock): MigrationStorage {
  return new MongoMigrationStorage({
    db,
    clock,
    ...(options.migrationsCollection ? { collection: options.migrationsCollection } : {}),
    ...(options.historyCollection ? { historyCollection: options.historyCollection } : {}),
  });
}

/** The default lock: a lease document in the migrator's database. */
function mongoLock(options: MigratorOptions, db: Db, clock: ServerClock, identity: RunIdentity, logger: Logger, onWait: (holder: LockHolder) => void): MigrationLock {
  return new MongoLock({
    db,
    identity,
    logger,
    clock,
    onWait,
    ...(options.lockCollection ? { collection: options.lockCollection } : {}),
    ...(options.lockName ? { name: options.lockName } : {}),
    ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
    ...(options.lockWaitTimeoutMs !== undefined ? { waitTimeoutMs: options.lockWaitTimeoutMs } : {}),
    ...(options.lockPollMs !== undefined ? { pollMs: options.lockPollMs } : {}),
  });
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

/** umzug wraps a migration's error; wrap it ours: name, direction, and the original as `cause`. */
function toMigrateError(error: unknown): unknown {
  // umzug's own class, recognised by shape: it is imported lazily.
  const migration = (error as Partial<MigrationError> | null)?.migration;
  if (error instanceof Error && error.name === 'MigrationError' && migration) {
    const cause = error.cause ?? error;
    if (typeof cause === 'object' && cause !== null && notTheMigrations.has(cause)) return cause;
    return new MigrationFailedError(migration.name, migration.direction, cause);
  }
  return error;
}
