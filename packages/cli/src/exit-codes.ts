/** The `migrate` command's exit codes. */
export const ExitCode = {
  /** Done: work was applied, or the report was printed. */
  success: 0,
  /** A migration failed (whatever it raised, bad options included), or the database errored mid-run. State and progress are recorded. */
  failed: 1,
  /**
   * Bad input, found before anything ran: unknown command, option, target or file; an option value out of range; a URI
   * without a database; a rollback target that changed meanwhile; `down` without `--yes` when not interactive. Nothing was written.
   */
  badInput: 2,
  /** Another process holds the lock past `--lock-timeout`. */
  locked: 3,
  /** Applied migrations changed since they ran (see `verify`). */
  drift: 4,
  /** Nothing to do where that is worth a look: nothing pending for `preview`, nothing applied for `down`, no lock for `unlock`. (`up` with nothing pending succeeds: 0.) */
  nothingToDo: 5,
  /** The database could not be reached within the connect timeout. */
  unreachable: 6,
  /** `status --fail-on-pending` (`--check`): migrations are pending. */
  pending: 7,
  /** Stopped by SIGINT/SIGTERM at a batch boundary; rerun to resume. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
