import { messageOf } from './driver-errors.js';

/** Stable, machine-readable codes of every error this package throws. */
export const MigrateErrorCode = {
  InvalidMigrations: 'INVALID_MIGRATIONS',
  InvalidOption: 'INVALID_OPTION',
  MigrationNotFound: 'MIGRATION_NOT_FOUND',
  MigrationLocked: 'MIGRATION_LOCKED',
  LockLost: 'LOCK_LOST',
  MigrationAlreadyApplied: 'MIGRATION_ALREADY_APPLIED',
  MigrationNotApplied: 'MIGRATION_NOT_APPLIED',
  ChecksumDrift: 'CHECKSUM_DRIFT',
  DatabaseNotReady: 'DATABASE_NOT_READY',
  MigrationFailed: 'MIGRATION_FAILED',
  Interrupted: 'INTERRUPTED',
  ValidationFailed: 'VALIDATION_FAILED',
  AuthenticationFailed: 'AUTHENTICATION_FAILED',
  OutOfOrder: 'OUT_OF_ORDER',
  Baselined: 'BASELINED',
} as const;
export type MigrateErrorCode = (typeof MigrateErrorCode)[keyof typeof MigrateErrorCode];

/** Something the caller can do about an error, in API terms. The CLI renders each as a command line. */
export interface Remedy {
  /** The Migrator method to call, e.g. 'status' | 'verify' | 'unlock' | 'up' | 'down'; absent for an option-only remedy. */
  readonly call?: string;
  /**
   * Options (API names) of that call, or of the Migrator when `call` is absent: `{ allowDrift: true }`, `{ force: true }`,
   * `{ to: 'ns/004_x' }`, `{ migration: 'ns/004_x' }`, `{ uri: true }` (= supply a connection string).
   */
  readonly options?: Readonly<Record<string, string | number | boolean>>;
  /** One short neutral sentence of why, optional. */
  readonly why?: string;
}

/** What every `MigrateError` constructor accepts besides its message. */
export interface MigrateErrorOptions {
  readonly cause?: unknown;
  /** Default: none. */
  readonly remedies?: readonly Remedy[];
}

/**
 * Base class of every error thrown by this package. `code` is stable; `message` says what went wrong in API terms
 * (no command-line wording); `remedies` say what to do, for the caller (or the CLI) to present.
 */
export class MigrateError extends Error {
  override name = 'MigrateError';
  readonly code: MigrateErrorCode;
  readonly remedies: readonly Remedy[];

  constructor(code: MigrateErrorCode, message: string, options: MigrateErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.remedies = options.remedies ?? [];
  }
}

/** A migration source could not be loaded: bad file name, duplicate number, missing `up`/`down`, or an import failure. */
export class MigrationLoadError extends MigrateError {
  override name = 'MigrationLoadError';
  constructor(
    message: string,
    readonly file?: string,
    options?: MigrateErrorOptions,
  ) {
    super(MigrateErrorCode.InvalidMigrations, message, options);
  }
}

/** An option or argument is invalid. Nothing was written. */
export class InvalidOptionError extends MigrateError {
  override name = 'InvalidOptionError';
  constructor(message: string, options?: MigrateErrorOptions) {
    super(MigrateErrorCode.InvalidOption, message, options);
  }
}

/** A migration reference (id, name or number) matches no known migration, or more than one. */
export class MigrationNotFoundError extends MigrateError {
  override name = 'MigrationNotFoundError';
  constructor(
    readonly reference: string,
    known: readonly string[],
    ambiguous = false,
  ) {
    super(
      MigrateErrorCode.MigrationNotFound,
      ambiguous
        ? `Migration "${reference}" is ambiguous: it matches ${known.join(', ')}. Use the full id.`
        : `No migration matches "${reference}". Known migrations: ${known.length ? known.join(', ') : '(none)'}.`,
      { remedies: [{ call: 'status', why: 'It lists every migration.' }] },
    );
  }
}

/** Who holds a lease: enough for an operator to find the process. */
export interface LockHolder {
  readonly runId: string;
  readonly host: string;
  readonly pid: number;
  readonly user?: string;
  readonly acquiredAt?: Date;
  readonly expiresAt?: Date;
}

/**
 * The migration lock is held by another process: it was not released within the wait timeout, or (`refusedUnlock`)
 * `unlock` without `force` found its lease live.
 */
export class MigrationLockedError extends MigrateError {
  override name = 'MigrationLockedError';
  constructor(
    readonly holder: LockHolder | undefined,
    detail: string,
    options: { readonly refusedUnlock?: boolean } = {},
  ) {
    const who = holder
      ? `host ${holder.host}, pid ${holder.pid}, run ${holder.runId}${holder.expiresAt ? `, lease expires ${holder.expiresAt.toISOString()}` : ''}`
      : 'an unknown holder';
    const force = { call: 'unlock', options: { force: true }, why: 'Only if that process is gone.' } as const;
    // After a refused unlock, the plain unlock is no way out.
    const wayOut = options.refusedUnlock
      ? 'wait for its lease to expire, or remove it now with `unlock` and option `force`'
      : 'wait for its lease to expire or remove it with `unlock` (option `force` removes a live lease)';
    super(MigrateErrorCode.MigrationLocked, `The migration lock is held by ${who}. ${detail} If that process is gone, ${wayOut}.`, {
      remedies: options.refusedUnlock ? [force] : [{ call: 'unlock', why: 'It removes an expired lease.' }, force],
    });
  }
}

/** Our lease expired or was taken over; the run stopped before writing anything more. */
export class LockLostError extends MigrateError {
  override name = 'LockLostError';
  constructor(detail: string) {
    super(
      MigrateErrorCode.LockLost,
      `The migration lock was lost (${detail}); this run stopped. Toolkit batches and state writes stop at the next lease check; ` +
        'code of a migration outside the toolkit is not fenced and may have written since. Another process may have taken over: check the status, then run `up` again to resume.',
      { remedies: [{ call: 'status' }, { call: 'up', why: 'It resumes.' }] },
    );
  }
}

/** `up` was asked for a named migration that is already applied. */
export class MigrationAlreadyAppliedError extends MigrateError {
  override name = 'MigrationAlreadyAppliedError';
  constructor(readonly migrationId: string) {
    super(
      MigrateErrorCode.MigrationAlreadyApplied,
      `Migration ${migrationId} is already completed. To run it again, roll it back first (\`down\` with \`to: "${migrationId}"\`), then run it (\`up\` with \`migration: "${migrationId}"\`).`,
      { remedies: [{ call: 'down', options: { to: migrationId } }, { call: 'up', options: { migration: migrationId } }] },
    );
  }
}

/** `down` was asked to revert something that is not applied. */
export class MigrationNotAppliedError extends MigrateError {
  override name = 'MigrationNotAppliedError';
  constructor(
    readonly migrationId: string | undefined,
    detail?: string,
  ) {
    super(
      MigrateErrorCode.MigrationNotApplied,
      migrationId
        ? `Migration ${migrationId} is not applied, so there is nothing to roll back.${detail ? ` ${detail}` : ''}`
        : 'No migration is applied, so there is nothing to roll back.',
      { remedies: [{ call: 'status', why: 'It shows what is applied.' }] },
    );
  }
}

/** One applied migration whose file no longer matches what ran. */
export interface DriftEntry {
  readonly id: string;
  /** `changed`: the file's checksum differs; `missing`: the file is gone. */
  readonly kind: 'changed' | 'missing';
  readonly recordedChecksum: string;
  readonly currentChecksum?: string;
}

/** Applied migrations were edited or removed after they ran. */
export class ChecksumDriftError extends MigrateError {
  override name = 'ChecksumDriftError';
  /** `unloadedNamespaces`: namespaces of missing migrations that no loaded source has (a source left out, not files lost). */
  constructor(
    readonly drift: readonly DriftEntry[],
    readonly unloadedNamespaces: readonly string[] = [],
  ) {
    const unloaded = unloadedNamespaces.map((n) => `"${n}"`).join(', ');
    super(
      MigrateErrorCode.ChecksumDrift,
      `Applied migrations changed since they ran: ${drift.map((d) => `${d.id} (${d.kind})`).join(', ')}. ` +
        (unloaded
          ? `No loaded source has the namespace ${unloaded}: if those migrations live in a folder or package left out of \`sources\`, add it there. `
          : '') +
        `${unloaded && drift.every((d) => d.kind === 'missing') ? 'Else restore' : 'Restore'} the original files, or add a new migration for the change. \`verify\` gives the details; option \`allowDrift\` overrides.`,
      { remedies: [{ call: 'verify' }, { call: 'up', options: { allowDrift: true }, why: 'It runs despite the drift.' }] },
    );
  }
}

/** The database could not be reached or answered in an unexpected way. */
export class DatabaseNotReadyError extends MigrateError {
  override name = 'DatabaseNotReadyError';
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      MigrateErrorCode.DatabaseNotReady,
      `The database is not reachable: ${detail.replace(/(?<!\.)\.$/, '')}. Check the connection string, that the server is up, and the network.`,
      { ...options, remedies: [{ options: { uri: true }, why: 'Check the connection string.' }] },
    );
  }
}

/** A migration threw. `cause` holds the original error. */
export class MigrationFailedError extends MigrateError {
  override name = 'MigrationFailedError';
  constructor(
    readonly migrationId: string,
    readonly direction: 'up' | 'down',
    cause: unknown,
  ) {
    // The cause's own full stop would double ours.
    const reason = messageOf(cause).replace(/(?<!\.)\.$/, '');
    super(
      MigrateErrorCode.MigrationFailed,
      `Migration ${migrationId} (${direction}) failed: ${reason}. Its state and progress are recorded; fix the cause and run \`${direction}\` again to resume.`,
      { cause, remedies: [{ call: direction, why: 'It resumes from the recorded progress.' }] },
    );
  }
}

/** The run was asked to stop (SIGINT, SIGTERM or an aborted signal) and stopped at a batch boundary. */
export class InterruptedError extends MigrateError {
  override name = 'InterruptedError';
  constructor(detail = 'the run was interrupted') {
    super(MigrateErrorCode.Interrupted, `${detail}; stopped at a batch boundary with progress recorded. Run the same command again to resume.`);
  }
}

/** A migration's own post-condition check failed. */
export class ValidationFailedError extends MigrateError {
  override name = 'ValidationFailedError';
  constructor(message: string) {
    super(MigrateErrorCode.ValidationFailed, message);
  }
}

/** The `MigrateError`s of an error's `cause` chain, outermost first (at most 10 links deep). */
export function migrateErrorsOf(error: unknown): MigrateError[] {
  const found: MigrateError[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof MigrateError) found.push(e);
  }
  return found;
}

/** The first `MigrateError` with the given code in an error's `cause` chain. */
export function findMigrateError(error: unknown, code: MigrateErrorCode): MigrateError | undefined {
  return migrateErrorsOf(error).find((e) => e.code === code);
}

/** The deepest `MigrateError` in an error's `cause` chain: it says best what went wrong. */
export function rootMigrateError(error: unknown): MigrateError | undefined {
  return migrateErrorsOf(error).at(-1);
}

/** A rollback would have to pass over an applied migration whose file is missing. Nothing was reverted. */
export class MigrationFileMissingError extends MigrateError {
  override name = 'MigrationFileMissingError';
  constructor(readonly migrationId: string) {
    super(
      MigrateErrorCode.InvalidMigrations,
      `Migration ${migrationId} is applied but its file is missing, so it cannot be rolled back, and rolling back an earlier one would leave it applied. ` +
        `Restore its file (deploy the code that contains it), then roll back again; or revert an earlier migration explicitly with the \`migration\` option. Nothing was rolled back.`,
      { remedies: [{ call: 'status', why: 'It lists the migration as missing.' }] },
    );
  }
}

/** A rollback found a migration whose `up` failed or was killed part-way: its data is partly written. Nothing was reverted. */
export class PartialMigrationError extends MigrateError {
  override name = 'PartialMigrationError';
  constructor(
    readonly migrationId: string,
    readonly status: string,
  ) {
    super(
      MigrateErrorCode.MigrationFailed,
      `Migration ${migrationId} is partly applied (its last \`up\` ${status === 'applying' ? 'is still marked applying: it was killed, or is running right now' : 'failed or was interrupted'}), ` +
        `so rolling back another migration would leave its partial data in place. Revert it with \`down\` with \`migration: "${migrationId}"\`, ` +
        'or finish it by running `up` again. Nothing was rolled back.',
      { remedies: [{ call: 'down', options: { migration: migrationId }, why: 'It reverts it.' }, { call: 'up', why: 'It finishes it.' }] },
    );
  }
}

/** The migrations a rollback was confirmed for are no longer the last applied (another process ran meanwhile). Nothing was reverted. */
export class TargetChangedError extends MigrateError {
  override name = 'TargetChangedError';
  constructor(
    readonly expected: readonly string[],
    readonly actual: readonly string[],
  ) {
    super(
      MigrateErrorCode.InvalidOption,
      `This rollback was meant for ${expected.join(', ')}, but the last applied ${actual.length > 1 ? 'migrations are' : 'migration is'} now ${actual.join(', ')}: ` +
        'another process changed the applied migrations meanwhile. Nothing was rolled back; check the status and run `down` again.',
      { remedies: [{ call: 'status' }, { call: 'down' }] },
    );
  }
}

/** `up` found a migration whose rollback is running or was cut short: its data is partly restored. Nothing was applied. */
export class PartlyRevertedError extends MigrateError {
  override name = 'PartlyRevertedError';
  constructor(readonly migrationId: string) {
    super(
      MigrateErrorCode.MigrationFailed,
      `Migration ${migrationId} is partly reverted (a \`down\` is running or was interrupted), so \`up\` cannot call it applied. ` +
        `Finish the rollback with \`down\` with \`migration: "${migrationId}"\`, or re-apply it with \`up\` with \`migration: "${migrationId}"\` ` +
        '(a plain `up`, as at boot, never re-applies what an operator was rolling back). Nothing was applied.',
      {
        remedies: [
          { call: 'down', options: { migration: migrationId }, why: 'It finishes the rollback.' },
          { call: 'up', options: { migration: migrationId }, why: 'It re-applies it.' },
        ],
      },
    );
  }
}

/** The server rejected the credentials (driver error code 18). Names the user, never the password. */
export class AuthenticationFailedError extends MigrateError {
  override name = 'AuthenticationFailedError';
  constructor(
    readonly user: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      MigrateErrorCode.AuthenticationFailed,
      `Authentication failed${user ? ` for user "${user}"` : ' (the connection string names no user)'}: the server rejected the credentials. ` +
        'Check the user name, the password and the authSource option of the connection string.',
      { ...options, remedies: [{ options: { uri: true }, why: 'Supply the right credentials.' }] },
    );
  }
}

/** A pending migration sorts before one already applied from the same source (it was merged late). Nothing was applied. */
export class OutOfOrderError extends MigrateError {
  override name = 'OutOfOrderError';
  constructor(
    readonly migrationId: string,
    readonly lastApplied: string,
  ) {
    super(
      MigrateErrorCode.OutOfOrder,
      `Migration ${migrationId} is pending but sorts before ${lastApplied}, which is already applied: it would run out of order. ` +
        'Check that it does not depend on being run before the later one, then apply it with the allowOutOfOrder option (history records that it ran out of order). Nothing was applied.',
      { remedies: [{ call: 'up', options: { migration: migrationId, allowOutOfOrder: true }, why: 'It applies it, and only it, out of order.' }] },
    );
  }
}

/** `down` would revert a migration that `baseline` marked applied: its `up` never ran here. Nothing was reverted. */
export class BaselinedMigrationError extends MigrateError {
  override name = 'BaselinedMigrationError';
  constructor(readonly migrationId: string) {
    super(
      MigrateErrorCode.Baselined,
      `Migration ${migrationId} was baselined (marked applied without running), so its \`down\` would undo work this tool never did, ` +
        'and the next `up` would then run it on data that already has it. To unmark it without running anything, use `repair` with the ' +
        '`migration` and `resolve: "pending"` options. Nothing was rolled back.',
      { remedies: [{ call: 'repair', options: { migration: migrationId, resolve: 'pending', reason: '…' }, why: 'It unmarks it; nothing runs.' }] },
    );
  }
}
