/**
 * Exit codes of `migrate`: the single table (the README's is a copy). Deploy scripts may branch on them.
 * The process exits in one place (main.ts) with one of these.
 */
export const ExitCode = {
  /** Done; also `up` with nothing pending, or when another process applied it while this one waited, and a `down` another process did meanwhile. */
  success: 0,
  /** A migration failed; its state is recorded. Also any unexpected error. */
  failed: 1,
  /**
   * Bad input, found before anything ran: unknown command, option, target, setting or file; an option value out of range; a URI
   * without a database; a rollback target that changed meanwhile; `down` without `--yes` when not interactive. Nothing was written.
   */
  badInput: 2,
  /** Another process holds the lock past `--lock-timeout`. */
  locked: 3,
  /** Applied migrations changed since they ran (see `verify`; `repair` accepts a reviewed change). */
  drift: 4,
  /** Nothing to do where that is worth a look: nothing pending for `preview`, nothing applied for `down`, no lock for `unlock`. (`up` with nothing pending succeeds: 0.) */
  nothingToDo: 5,
  /** The database could not be reached within the connect timeout. */
  unreachable: 6,
  /** `status --fail-on-pending` (`--check`): migrations are pending. */
  pending: 7,
  /** The server rejected the credentials (wrong user, password or authSource). */
  authFailed: 8,
  /** A pending migration sorts before an applied one of the same source; `--allow-out-of-order` applies it. Nothing ran. */
  outOfOrder: 9,
  /** The operator answered no at a confirmation prompt. Nothing was written. */
  cancelled: 10,
  /** Stopped by SIGINT/SIGTERM at a batch boundary (or a second Ctrl-C: at once); rerun to resume. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
