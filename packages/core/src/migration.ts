import type { Db, MongoClient } from 'mongodb';
import type { Logger } from 'winston';
import type { LeaseGuard } from './lock/migration-lock.js';
import type { MongooseConnection } from './mongoose-connection.js';

/** Which way a migration runs. */
export const Direction = { up: 'up', down: 'down' } as const;
export type Direction = (typeof Direction)[keyof typeof Direction];

/** Counts a migration returns from `up`/`down`; stored on its record and in its history. */
export type MigrationCounts = Readonly<Record<string, number>>;

/** Progress of a long step, emitted as `progress` events (the CLI draws a bar from them). */
export interface ProgressEvent {
  readonly migrationId: string;
  readonly phase: string;
  readonly done: number;
  /** Best estimate of the total, when known. */
  readonly total?: number;
}

/** What a running migration gets. */
export interface MigrationContext {
  readonly client: MongoClient;
  readonly db: Db;
  /**
   * A Mongoose connection on the same client and database, for the app's models: the app's own when it passed
   * `connection` to the Migrator, otherwise one opened with the app's mongoose. Reading it throws `InvalidOptionError`
   * (saying why) when mongoose cannot be had.
   */
  readonly connection: MongooseConnection;
  readonly logger: Logger;
  readonly migration: {
    readonly id: string;
    readonly direction: Direction;
    readonly runId: string;
    /** Server time at which this attempt started. */
    readonly startedAt: Date;
    /** Server time of the first attempt in this direction; stable across resumes, so use it for timestamps you write. */
    readonly runAt: Date;
  };
  /** Default batch size for data work (the migrator's `batchSize`). */
  readonly batchSize: number;
  /** Default number of batches of data work in flight at once (the migrator's `concurrency`). */
  readonly concurrency: number;
  /** Aborted on SIGINT/SIGTERM or by the caller: stop at the next batch boundary. */
  readonly signal: AbortSignal;
  /** The lease under which this runs; check it before each batch. */
  readonly lease: LeaseGuard;
  /** Resumable progress, stored on the migration's record and fenced by the lease. */
  readonly checkpoint: Checkpoint;
  progress(event: Omit<ProgressEvent, 'migrationId'>): void;
  /**
   * Whether anything follows `progress` events (the CLI's bar does; an app's boot `up()` usually does not). Work done
   * only for them, such as counting a total up front (a scan of its own), can be skipped when this is false.
   */
  readonly progressFollowed: boolean;
}

/** Resumable progress of one migration in one direction. */
export interface Checkpoint {
  /** What the previous, unfinished attempt in this direction saved, if any. */
  load<T>(): T | undefined;
  /** Saves progress; throws `LockLostError` when our lease is no longer the holder. */
  save(value: unknown): Promise<void>;
}

/** What `preview` gets: read-only access. */
export interface PreviewContext {
  readonly client: MongoClient;
  readonly db: Db;
  /** As `MigrationContext.connection`. */
  readonly connection: MongooseConnection;
  readonly logger: Logger;
  readonly migration: { readonly id: string };
  readonly batchSize: number;
  /** How many users (or groups) to list. */
  readonly top: number;
  /** How many sample documents to list. */
  readonly samples: number;
  /** Throughput (docs/s) of earlier runs that reported `docsPerSecond` in their counts, newest first. */
  readonly measuredThroughput: () => Promise<number[]>;
}

/** A table in an impact report. */
export interface ReportTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<ReadonlyArray<string | number | null>>;
}

/** The impact of a pending migration, computed without writing. */
export interface ImpactReport {
  readonly title: string;
  /** Headline figures, in display order. */
  readonly metrics: ReadonlyArray<{ readonly label: string; readonly value: number | string }>;
  /** Estimated run time and what it is based on. */
  readonly estimate?: { readonly seconds: number; readonly basis: string };
  readonly tables?: readonly ReportTable[];
  /** The raw figures, for `--json` and for tests. */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** What a migration file exports. */
export interface MigrationModule {
  readonly description?: string;
  up(ctx: MigrationContext): Promise<MigrationCounts | void>;
  down(ctx: MigrationContext): Promise<MigrationCounts | void>;
  /** Reports the impact without writing. */
  preview?(ctx: PreviewContext): Promise<ImpactReport>;
  /** One line saying what a finished run did, from its counts (the CLI prints it after the migration's id). Default: none. */
  summary?(counts: MigrationCounts, direction: Direction): string;
}
