import { MigrateError, MigrateErrorCode, redactSecrets } from '@mongrate/core';
import { ExitCode } from './exit-codes.js';

/** The deepest `MigrateError` in a cause chain: it says best what went wrong. */
function rootMigrateError(error: unknown): MigrateError | undefined {
  let found: MigrateError | undefined;
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof MigrateError) found = e;
  }
  return found;
}

const EXIT_BY_CODE: Partial<Record<MigrateErrorCode, ExitCode>> = {
  [MigrateErrorCode.InvalidMigrations]: ExitCode.badInput,
  [MigrateErrorCode.InvalidOption]: ExitCode.badInput,
  [MigrateErrorCode.MigrationNotFound]: ExitCode.badInput,
  [MigrateErrorCode.MigrationAlreadyApplied]: ExitCode.badInput,
  [MigrateErrorCode.MigrationNotApplied]: ExitCode.nothingToDo,
  [MigrateErrorCode.MigrationLocked]: ExitCode.locked,
  [MigrateErrorCode.ChecksumDrift]: ExitCode.drift,
  [MigrateErrorCode.DatabaseNotReady]: ExitCode.unreachable,
  [MigrateErrorCode.Interrupted]: ExitCode.interrupted,
};

export interface ErrorReport {
  readonly exitCode: ExitCode;
  readonly name: string;
  readonly code: string;
  /** Redacted: safe to print. */
  readonly message: string;
}

/** Maps any error to an exit code and a printable, credential-free message. */
export function reportError(error: unknown): ErrorReport {
  const root = rootMigrateError(error);
  const top = error instanceof Error ? error : new Error(String(error));
  const exitCode = (root && EXIT_BY_CODE[root.code]) ?? ExitCode.failed;
  // A failed migration's own message names it and says how to resume; a root cause such as an interrupt says more.
  const shown = root && root !== top && EXIT_BY_CODE[root.code] ? `${top.message}\n${root.message}` : top.message;
  return { exitCode, name: root?.name ?? top.name, code: root?.code ?? 'UNEXPECTED', message: redactSecrets(shown) };
}
