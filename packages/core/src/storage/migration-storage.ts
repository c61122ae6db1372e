import type { ObjectId } from 'mongodb';
import type { Direction, MigrationCounts } from '../migration.js';
import type { RunIdentity } from '../lock/run-identity.js';

/**
 * The stored status of one migration's record (what `MigrationRecord.status` holds). An attempt that was interrupted
 * is stored as `failed`, like one that threw: both resume the same way. Its history entry tells them apart
 * (`HistoryEntry.outcome` is `interrupted` or `failed`).
 */
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
  /** Marked applied by `baseline`, without running. */
  readonly baseline?: boolean;
  /** Applied after a migration that sorts later (`allowOutOfOrder`). */
  readonly outOfOrder?: boolean;
}

/**
 * How an attempt ended, as history records it. `interrupted` (a requested stop at a batch boundary) leaves the record
 * `failed`; see `MigrationStatus`.
 */
export type AttemptOutcome = 'applied' | 'rolled_back' | 'failed' | 'interrupted';

/** A state change that ran nothing: `baseline` (marked applied) or `repaired` (checksum accepted, record resolved). */
export type AmendmentOutcome = 'baseline' | 'repaired';

/** One append-only history entry: a finished (or failed) run or rollback. */
export interface HistoryEntry extends RunIdentity {
  readonly _id?: ObjectId;
  readonly migrationId: string;
  readonly direction: Direction;
  readonly outcome: AttemptOutcome | AmendmentOutcome;
  readonly checksum: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly durationMs: number;
  readonly counts?: MigrationCounts;
  readonly error?: string;
  /** Why a baseline or repair was done (their `reason` option). */
  readonly reason?: string;
  /** What a repair changed, e.g. `checksum:<old>` or `resolved:applied`. */
  readonly repair?: string;
  /** Set when this run applied the migration out of order. */
  readonly outOfOrder?: boolean;
  /** The run's `batchSize`, so that an estimate from earlier runs' throughput compares like with like. */
  readonly batchSize?: number;
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

/** What `finish` stores besides the outcome. */
export interface FinishDetails {
  readonly counts?: MigrationCounts | undefined;
  /** Redacted error message of a failed attempt. */
  readonly error?: string;
  /** The attempt applied the migration out of order; the record and the history entry say so. Default false. */
  readonly outOfOrder?: boolean;
  /** The run's batch size, kept in the history entry. Default: not recorded. */
  readonly batchSize?: number;
}

/** A change to one record made without running its migration (`baseline`, `repair`), with the history entry that says so. */
export interface RecordAmendment {
  /** Fields to set. When the record does not exist it is created, so they must then make a whole record. */
  readonly set: Partial<Omit<MigrationRecord, '_id'>>;
  /** Fields to remove. Default none. */
  readonly unset?: ReadonlyArray<keyof MigrationRecord>;
  readonly history: Omit<HistoryEntry, '_id'>;
}

/** Which history entries to read, newest first. */
export interface HistoryFilter {
  readonly migrationId?: string;
  /** Default `DEFAULT_HISTORY_LIMIT` (100). */
  readonly limit?: number;
}

export const DEFAULT_HISTORY_LIMIT = 100;

/**
 * Where migration records and their history live. `Migrator` depends on this contract only; `MongoMigrationStorage`
 * is the default, and an app may pass its own as `MigratorOptions.storage`. Reads return what they read to their
 * caller; nothing is kept between calls.
 * Every write after `begin` is fenced: it lands only while the record still carries the given lease's `fence`, and
 * throws `LockLostError` otherwise. Times are the server's.
 */
export interface MigrationStorage {
  /** Every record, in one round trip. Checkpoints may be left out (only `begin` returns them). */
  records(): Promise<MigrationRecord[]>;
  /**
   * Marks an attempt as started under a lease (`applying` or `reverting`); returns the record, carrying the previous
   * checkpoint when it resumes an unfinished attempt in the same direction. Throws `LockLostError` if another lease
   * took the record meanwhile.
   */
  begin(attempt: BeginAttempt): Promise<MigrationRecord>;
  /** Stores the attempt's checkpoint, fenced. */
  saveCheckpoint(id: string, fence: string, value: unknown): Promise<void>;
  /** Finishes an attempt, fenced: the record becomes `applied`, `rolled_back` or `failed`, and one history entry is appended. */
  finish(id: string, fence: string, outcome: AttemptOutcome, details: FinishDetails): Promise<void>;
  /** Finished attempts, newest first. */
  history(filter?: HistoryFilter): Promise<HistoryEntry[]>;
  /** Changes a record without an attempt (the caller holds the lock) and appends its history entry. */
  amend(id: string, amendment: RecordAmendment): Promise<void>;
}

/** Applied, being reverted, or failed while reverting: what `down` may revert and `up` must not apply. */
export function isExecuted(record: MigrationRecord): boolean {
  return (
    record.status === MigrationStatus.applied ||
    record.status === MigrationStatus.reverting ||
    (record.status === MigrationStatus.failed && record.direction === 'down')
  );
}
