import type { ObjectId } from 'mongodb';
import type { UmzugStorage } from 'umzug';
import type { Direction, MigrationCounts } from './migration.js';
import type { RunIdentity } from './run-identity.js';

/** Where a migration stands. */
export const MigrationStatus = {
  applying: 'applying',
  applied: 'applied',
  failed: 'failed',
  reverting: 'reverting',
  rolledBack: 'rolled_back',
} as const;
export type MigrationStatus = (typeof MigrationStatus)[keyof typeof MigrationStatus];

/** The stored state of one migration. Its run identity is that of the last attempt. */
export interface MigrationRecord extends RunIdentity {
  readonly _id: string;
  readonly checksum: string;
  readonly status: MigrationStatus;
  /** Direction of the last attempt. */
  readonly direction: Direction;
  readonly source?: { readonly namespace: string; readonly version?: string };
  readonly startedAt: Date;
  /** First attempt of the current direction; kept across resumes. */
  readonly runAt: Date;
  readonly finishedAt?: Date;
  readonly durationMs?: number;
  readonly counts?: MigrationCounts;
  readonly error?: string;
  /** The lease under which the last attempt ran. */
  readonly fence?: string;
  readonly checkpoint?: unknown;
  readonly appliedAt?: Date;
  /** Marked applied by `baseline` without running. */
  readonly baseline?: boolean;
  /** Applied after a migration that sorts later (`allowOutOfOrder`). */
  readonly outOfOrder?: boolean;
}

/** One append-only history entry: a finished (or failed) run or rollback. */
export interface HistoryEntry extends RunIdentity {
  readonly _id?: ObjectId;
  readonly migrationId: string;
  readonly direction: Direction;
  /** `baseline`: marked applied without running; `repaired`: state changed by `repair`, nothing ran. */
  readonly outcome: 'applied' | 'rolled_back' | 'failed' | 'interrupted' | 'baseline' | 'repaired';
  readonly checksum: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly durationMs: number;
  readonly counts?: MigrationCounts;
  readonly error?: string;
  /** Why a baseline or repair was done (`reason` option). */
  readonly reason?: string;
  /** What a repair changed, e.g. `checksum`, `resolved:applied`. */
  readonly repair?: string;
  /** Set when this run applied a migration out of order. */
  readonly outOfOrder?: boolean;
}

/** What `begin` needs to know about the attempt. */
export interface BeginAttempt {
  readonly id: string;
  readonly direction: Direction;
  readonly checksum: string;
  readonly source?: { readonly namespace: string; readonly version?: string };
  readonly identity: RunIdentity;
  readonly fence: string;
}

/**
 * Migration state and history. Extends umzug's storage contract: `executed` lists what counts as applied,
 * `logMigration`/`unlogMigration` finish an attempt that `begin` started.
 * Every write after `begin` is fenced: it only lands while the record still carries our lease's `_id`.
 */
export interface MigrationStorage<Ctx = unknown> extends UmzugStorage<Ctx> {
  /** All records, in one round trip. */
  records(): Promise<MigrationRecord[]>;
  /** The records read by the last `executed()` or `records()` call. */
  readonly lastRead: readonly MigrationRecord[] | undefined;
  /** Marks an attempt as started under a lease; returns the record (carrying the previous checkpoint when resuming). */
  begin(attempt: BeginAttempt): Promise<MigrationRecord>;
  saveCheckpoint(id: string, fence: string, value: unknown): Promise<void>;
  /** Finishes an attempt: `applied`, `rolled_back` or `failed`. */
  finish(id: string, fence: string, outcome: HistoryEntry['outcome'], details: { counts?: MigrationCounts; error?: string }): Promise<void>;
  history(filter?: { readonly migrationId?: string; readonly limit?: number }): Promise<HistoryEntry[]>;
  /** Server time, for timestamps. */
  now(): Promise<Date>;
}

/** What the storage needs from umzug's per-run context to finish an attempt. */
export interface StorageRunContext {
  /** The lease of the current run; `logMigration`/`unlogMigration` are fenced by it. */
  readonly fence: string;
  /** Counts returned by each migration of this run, by id. */
  readonly counts: Map<string, MigrationCounts | undefined>;
}
