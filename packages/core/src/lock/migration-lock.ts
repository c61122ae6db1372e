import { InterruptedError, MigrateErrorCode, findMigrateError, type LockHolder } from '../errors.js';

/** What a running migration may ask of the lease it runs under. */
export interface LeaseGuard {
  /** The lease's fencing token, written with every state change. */
  readonly fence: string;
  /** Throws `LockLostError` if the lease is known lost or may have expired (local clock; no round trip). */
  assertHeld(): void;
  /**
   * Where the lease document lives, when it is a document on the server (`MongoLock`): the toolkit then sends each
   * batch's data write as one command that writes only while that document still carries `fence`. Default: none.
   */
  readonly serverFence?: ServerFence;
}

/** The lease document's address: `{ _id: name, fence }` in `collection` of database `dbName`. */
export interface ServerFence {
  readonly dbName: string;
  readonly collection: string;
  readonly name: string;
}

/**
 * The check before each unit of work of a run (a migration, a batch): stop with `InterruptedError` (the abort's reason,
 * when it is one) once `signal` is aborted, and with `LockLostError` once the lease is known lost or may have expired. Local only, no round trip.
 */
export function assertMayContinue(signal: AbortSignal, lease: LeaseGuard): void {
  // The abort's own InterruptedError says what stopped the run (`stopped by SIGINT`); the record keeps that.
  if (signal.aborted) throw findMigrateError(signal.reason, MigrateErrorCode.Interrupted) ?? new InterruptedError();
  lease.assertHeld();
}

/** A held lease. */
export interface Lease extends LeaseGuard {
  readonly holder: LockHolder;
  /** True once a renewal found the lease gone or it outlived its term without one. */
  readonly lost: boolean;
  /** Stops renewing and deletes the lease (only ours, by `_id`). */
  release(): Promise<void>;
}

/** What `unlock` did. */
export interface UnlockResult {
  readonly removed: boolean;
  readonly holder?: LockHolder;
  readonly expired?: boolean;
}

export interface AcquireOptions {
  readonly signal?: AbortSignal;
  /** Asked between tries while another process holds the lease; false ends the wait without the lease. */
  readonly stillNeeded?: () => Promise<boolean>;
}

/** A mutual-exclusion lease between processes. */
export interface MigrationLock {
  /**
   * Waits until the lease is ours or the wait timeout passes (`MigrationLockedError`).
   * Resolves `undefined` if `stillNeeded` answers false while waiting: the holder did the work.
   */
  acquire(options?: AcquireOptions): Promise<Lease | undefined>;
  /** The current holder, if any, and whether its lease has expired by the server's clock. */
  inspect(): Promise<{ readonly holder: LockHolder; readonly expired: boolean } | undefined>;
  /** Removes an expired lease; with `force`, any lease. */
  unlock(options?: { readonly force?: boolean }): Promise<UnlockResult>;
}
