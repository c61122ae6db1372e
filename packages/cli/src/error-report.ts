import type { MigrateError } from '@mongrate/core';
import { MigrateErrorCode, findMigrateError, redactSecrets, rootMigrateError } from '@mongrate/core';
import { ExitCode } from './exit-codes.js';
import { commandLine, renderRemedies } from './remedy.js';

const EXIT_BY_CODE: Partial<Record<MigrateErrorCode, ExitCode>> = {
  [MigrateErrorCode.InvalidMigrations]: ExitCode.badInput,
  [MigrateErrorCode.InvalidOption]: ExitCode.badInput,
  [MigrateErrorCode.Baselined]: ExitCode.badInput,
  [MigrateErrorCode.MigrationNotFound]: ExitCode.badInput,
  [MigrateErrorCode.MigrationAlreadyApplied]: ExitCode.badInput,
  [MigrateErrorCode.MigrationNotApplied]: ExitCode.nothingToDo,
  [MigrateErrorCode.MigrationLocked]: ExitCode.locked,
  [MigrateErrorCode.ChecksumDrift]: ExitCode.drift,
  [MigrateErrorCode.DatabaseNotReady]: ExitCode.unreachable,
  [MigrateErrorCode.Interrupted]: ExitCode.interrupted,
  [MigrateErrorCode.AuthenticationFailed]: ExitCode.authFailed,
  [MigrateErrorCode.OutOfOrder]: ExitCode.outOfOrder,
};

export interface ErrorReport {
  readonly exitCode: ExitCode;
  readonly name: string;
  readonly code: string;
  /** Redacted: safe to print. */
  readonly message: string;
}

/**
 * Maps any error to an exit code and a printable, credential-free message. `where`: the flags that chose what the
 * command acted on (`whereFlags(argv)`), repeated in each command the message suggests. Default: none.
 */
export function reportError(error: unknown, where = ''): ErrorReport {
  const root = rootMigrateError(error);
  const top = error instanceof Error ? error : new Error(String(error));
  // Once a migration has run, its state is written: whatever it raised (even bad input) is a failed run, unless interrupted.
  const ran = !!findMigrateError(error, MigrateErrorCode.MigrationFailed);
  const exitCode = ran
    ? root?.code === MigrateErrorCode.Interrupted
      ? ExitCode.interrupted
      : ExitCode.failed
    : ((root && EXIT_BY_CODE[root.code]) ?? ExitCode.failed);
  // A failed migration's own message names it and says how to resume; a root cause such as an interrupt says more.
  const saysMore = root && root !== top && (ran ? root.code === MigrateErrorCode.Interrupted : EXIT_BY_CODE[root.code] !== undefined);
  // An interrupt is no failure to fix: say only how to resume.
  const interrupted = root?.code === MigrateErrorCode.Interrupted;
  const shown = interrupted ? root.message : saysMore ? `${top.message}\n${root.message}` : top.message;
  // Structured remedies (core) name API calls; render them as commands. Older errors without them get the CLI's own hint.
  const hint = root ? [renderRemedies(root, where) ?? cliHint(root, where), sourcesHint(root), typescriptHint(root)].filter(Boolean).join('\n') : undefined;
  return { exitCode, name: root?.name ?? top.name, code: root?.code ?? 'UNEXPECTED', message: redactSecrets(hint ? `${singleFullStops(shown)}\n${hint}` : singleFullStops(shown)) };
}

/** Messages are joined from parts that may end in a full stop; print one, never two (an ellipsis stays). Not applied to the remedy's commands, whose paths may hold "..". */
export function singleFullStops(message: string): string {
  return message.replace(/(?<!\.)\.\.(?=\s|$)/g, '.');
}

/** Drift of a whole source that was left out (core's `unloadedNamespaces`): on the command line, the flag that names sources. */
function sourcesHint(error: MigrateError): string | undefined {
  const unloaded = (error as { unloadedNamespaces?: unknown }).unloadedNamespaces;
  if (!Array.isArray(unloaded) || unloaded.length === 0) return undefined;
  return "On the command line: name every source with `--migrations` (repeatable: a folder or an installed package) or in the config file's `migrations`.";
}

/** A `.ts` migration Node could not load: the CLI registers tsx by itself (`enableTypeScriptMigrations`), so installing it is enough. */
function typescriptHint(error: MigrateError): string | undefined {
  if (error.name !== 'MigrationLoadError' || (error.cause as { code?: unknown } | undefined)?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') return undefined;
  return 'On the command line: installing tsx where the app or the migrations folder resolves it is enough (`npm i -D tsx`); `migrate` registers it by itself.';
}

/** Core errors speak of API options; on the command line, name the commands. */
function cliHint(error: MigrateError, where: string): string | undefined {
  const id = (error as { migrationId?: unknown }).migrationId;
  if (typeof id !== 'string') return undefined;
  const cmd = (command: string) => commandLine(command, where);
  if (error.code === MigrateErrorCode.OutOfOrder) return `On the command line: ${cmd('up --allow-out-of-order')} applies it.`;
  if (error.name === 'PartialMigrationError') return `On the command line: ${cmd(`down ${id} --yes`)} reverts it; ${cmd('up')} finishes it.`;
  if (error.name === 'MigrationFileMissingError') return `On the command line: ${cmd('status')} lists it as missing; ${cmd('down <id>')} reverts another migration by name.`;
  return undefined;
}
