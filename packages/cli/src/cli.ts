import { statSync } from 'node:fs';
import path from 'node:path';
import { ConnectionString } from 'mongodb-connection-string-url';
import yargs, { type Argv } from 'yargs';
import {
  InterruptedError,
  InvalidOptionError,
  Migrator,
  createLogger,
  createMigrationFile,
  resolveSource,
  type MigrationSource,
} from '@mongrate/core';
import type { Logger } from 'winston';
import { confirm } from './confirm.js';
import { enableTypeScriptMigrations } from './typescript-loader.js';
import { reportError } from './error-report.js';
import { ExitCode } from './exit-codes.js';
import { reportProgress } from './progress-reporter.js';
import { renderHistory, renderPreview, renderRun, renderStatus, renderVerify } from './render.js';

export const DEFAULT_MIGRATIONS_DIR = './migrations';
export const DEFAULT_CLI_LOG_LEVEL = 'warn';
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_LEASE_SECONDS = 60;
export const DEFAULT_LOCK_TIMEOUT_SECONDS = 300;
/** The largest batch the data toolkit accepts. */
export const MAX_BATCH_SIZE = 100_000;

interface GlobalArgs {
  uri?: string;
  migrations: string[];
  json: boolean;
  yes: boolean;
  'log-level': string;
  'log-format': 'pretty' | 'json';
  'lock-timeout': number;
  'lease': number;
  'batch-size'?: number;
  'connect-timeout': number;
}

/** What a command produced: an exit code, a value for `--json` and text for people. */
interface Outcome {
  readonly exitCode: ExitCode;
  readonly json: unknown;
  readonly text: string;
}

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  readonly interactive: boolean;
  readonly tty: boolean;
}

/** Runs the `migrate` command line; resolves to the exit code. Never exits the process itself. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let outcome: Outcome | undefined;
  let jsonMode = argv.includes('--json');
  const parser = buildParser(argv, io, (o) => (outcome = o));
  try {
    const args = (await parser.parseAsync()) as unknown as GlobalArgs & { help?: boolean };
    jsonMode = args.json;
    if (!outcome) return ExitCode.success; // --help, --version
  } catch (error) {
    const report = reportError(error);
    if (jsonMode) io.stdout.write(`${JSON.stringify({ ok: false, exitCode: report.exitCode, error: { name: report.name, code: report.code, message: report.message } }, null, 2)}\n`);
    else io.stderr.write(`Error: ${report.message}\n`);
    return report.exitCode;
  }
  if (jsonMode) io.stdout.write(`${JSON.stringify({ ok: outcome.exitCode === ExitCode.success, exitCode: outcome.exitCode, result: outcome.json }, null, 2)}\n`);
  else io.stdout.write(`${outcome.text}\n`);
  return outcome.exitCode;
}

function buildParser(argv: readonly string[], io: CliIo, done: (o: Outcome) => void): Argv {
  const withMigrator = (run: (m: Migrator, args: GlobalArgs, logger: Logger) => Promise<Outcome>) => async (parsed: unknown) => {
    const args = parsed as GlobalArgs;
    const logger = createLogger({ level: args['log-level'], format: args['log-format'] });
    const sources = resolveSources(args);
    if (Array.isArray(args.uri)) throw new InvalidOptionError(`--uri was given ${args.uri.length} times: give it once.`);
    const uri = args.uri ?? io.env.MONGODB_URI;
    if (!uri) throw new InvalidOptionError('No connection string: pass --uri mongodb://host:port/database or set MONGODB_URI.');
    requireDatabase(uri, args.uri !== undefined ? '--uri' : 'MONGODB_URI');
    const migrator = await Migrator.connect(uri, {
      sources,
      logger,
      lockWaitTimeoutMs: args['lock-timeout'] * 1000,
      leaseMs: args.lease * 1000,
      ...(args['batch-size'] !== undefined ? { batchSize: args['batch-size'] } : {}),
      clientOptions: { serverSelectionTimeoutMS: args['connect-timeout'], connectTimeoutMS: args['connect-timeout'] },
    });
    try {
      await enableTypeScriptMigrations(sources);
      await migrator.load();
      done(await run(migrator, args, logger));
    } finally {
      await migrator.close();
    }
  };

  return yargs(argv as string[])
    .scriptName('migrate')
    .usage('$0 <command> [options]\n\nMongoDB migrations: preview the impact, apply, roll back, and audit.')
    .option('uri', { type: 'string', describe: 'MongoDB connection string, with the database in its path (default: $MONGODB_URI)' })
    .option('migrations', { type: 'string', array: true, default: [DEFAULT_MIGRATIONS_DIR], describe: 'A migrations folder or plugin package; repeat for more' })
    .option('json', { type: 'boolean', default: false, describe: 'Print one machine-readable JSON document' })
    .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask for confirmation (required for down when not interactive)' })
    .option('log-level', { type: 'string', default: DEFAULT_CLI_LOG_LEVEL, choices: ['error', 'warn', 'info', 'debug'], describe: 'Log level (logs go to stderr)' })
    .option('log-format', { type: 'string', default: 'pretty', choices: ['pretty', 'json'] as const, describe: 'Log line format' })
    .option('lock-timeout', {
      type: 'string',
      default: String(DEFAULT_LOCK_TIMEOUT_SECONDS),
      coerce: wholeNumber('--lock-timeout', 'a whole number of seconds, 0 or more', 0),
      describe: 'Seconds to wait for another process holding the lock',
    })
    .option('lease', {
      type: 'string',
      default: String(DEFAULT_LEASE_SECONDS),
      coerce: wholeNumber('--lease', 'a whole number of seconds, at least 1', 1),
      describe: 'Lock lease in seconds (renewed every third of it)',
    })
    .option('batch-size', {
      type: 'string',
      coerce: wholeNumber('--batch-size', `a whole number from 1 to ${MAX_BATCH_SIZE}`, 1, MAX_BATCH_SIZE),
      describe: 'Documents per batch for data migrations (default 1000)',
    })
    .option('connect-timeout', {
      type: 'string',
      default: String(DEFAULT_CONNECT_TIMEOUT_MS),
      coerce: wholeNumber('--connect-timeout', 'a positive whole number of milliseconds', 1),
      describe: 'Milliseconds to wait for the server before failing',
    })
    .command(
      'preview [id]',
      'Report the impact of pending migrations (or one) without writing',
      (y: Argv) =>
        y
          .positional('id', { type: 'string', describe: 'Migration id, name or number' })
          .option('top', { type: 'string', default: '10', coerce: wholeNumber('--top', 'a whole number, 0 or more', 0), describe: 'Users to list' })
          .option('samples', { type: 'string', default: '5', coerce: wholeNumber('--samples', 'a whole number, 0 or more', 0), describe: 'Sample documents to list' }),
      withMigrator(async (m, a) => {
        const args = a as GlobalArgs & { id?: string; top: number; samples: number };
        const results = await m.preview({ ...(args.id ? { migration: args.id } : {}), top: args.top, samples: args.samples });
        return { exitCode: results.length === 0 ? ExitCode.nothingToDo : ExitCode.success, json: results, text: renderPreview(results) };
      }),
    )
    .command(
      'status',
      'Show each migration with its state, when, duration and counts',
      (y: Argv) =>
        y.option('fail-on-pending', { alias: 'check', type: 'boolean', default: false, describe: `Exit ${ExitCode.pending} when migrations are pending (for CI)` }),
      withMigrator(async (m, a) => {
        const args = a as GlobalArgs & { 'fail-on-pending': boolean };
        const report = await m.status();
        const exitCode = report.drift.length ? ExitCode.drift : args['fail-on-pending'] && report.pending > 0 ? ExitCode.pending : ExitCode.success;
        return { exitCode, json: report, text: renderStatus(report) };
      }),
    )
    .command(
      'up [id]',
      'Apply pending migrations: all, up to --to, --step of them, or one named',
      (y: Argv) =>
        y
          .positional('id', { type: 'string', describe: 'Apply only this migration' })
          .option('to', { type: 'string', describe: 'Apply up to and including this migration' })
          .option('step', { type: 'string', coerce: wholeNumber('--step', 'a positive whole number', 1), describe: 'Apply this many pending migrations' })
          .option('allow-drift', { type: 'boolean', default: false, describe: 'Run even if applied migrations changed' }),
      withMigrator(async (m, a, logger) => {
        const args = a as GlobalArgs & { id?: string; to?: string; step?: number; 'allow-drift': boolean };
        const result = await interruptible(logger, (signal) =>
          withProgress(m, io, logger, () =>
            m.up({
              ...(args.id ? { migration: args.id } : {}),
              ...(args.to ? { to: args.to } : {}),
              ...(args.step !== undefined ? { step: args.step } : {}),
              allowDrift: args['allow-drift'],
              signal,
            }),
          ),
        );
        // Nothing pending, or another process applied it while this one waited: the database is where the deploy wants it.
        return { exitCode: ExitCode.success, json: result, text: renderRun(result) };
      }),
    )
    .command(
      'down [id]',
      'Roll back the last applied migration, down to --to (0: all), --step of them, or one named (also a partial run)',
      (y: Argv) =>
        y
          .positional('id', { type: 'string', describe: 'Roll back only this migration' })
          .option('to', { type: 'string', describe: 'Roll back down to and including this migration; 0 for all' })
          .option('step', { type: 'string', coerce: wholeNumber('--step', 'a positive whole number', 1), describe: 'Roll back this many' }),
      withMigrator(async (m, a, logger) => {
        const args = a as GlobalArgs & { id?: string; to?: string; step?: number };
        const options = {
          ...(args.id ? { migration: args.id } : {}),
          ...(args.to !== undefined ? { to: args.to === '0' ? (0 as const) : args.to } : {}),
          ...(args.step !== undefined ? { step: args.step } : {}),
        };
        let expect: string[] | undefined;
        if (!args.yes) {
          if (!io.interactive) throw new InvalidOptionError('`down` changes data: pass --yes to confirm when not running in a terminal.');
          // Confirm the exact migrations, newest first; the rollback then reverts those or nothing.
          expect = await m.downPlan(options);
          if (!(await confirm(`Roll back ${expect.join(', ')}?`))) return { exitCode: ExitCode.badInput, json: { cancelled: true }, text: 'Cancelled: nothing was rolled back.' };
        }
        const result = await interruptible(logger, (signal) => withProgress(m, io, logger, () => m.down({ ...options, ...(expect ? { expect } : {}), signal })));
        return { exitCode: result.nothingToDo ? ExitCode.nothingToDo : ExitCode.success, json: result, text: renderRun(result) };
      }),
    )
    .command(
      'history [id]',
      'List finished runs and rollbacks, newest first',
      (y: Argv) =>
        y
          .positional('id', { type: 'string', describe: 'Only this migration' })
          .option('limit', { type: 'string', default: '50', coerce: wholeNumber('--limit', 'a positive whole number', 1) }),
      withMigrator(async (m, a) => {
        const args = a as GlobalArgs & { id?: string; limit: number };
        const entries = await m.history({ ...(args.id ? { migration: args.id } : {}), limit: args.limit });
        return { exitCode: ExitCode.success, json: entries, text: renderHistory(entries) };
      }),
    )
    .command(
      'verify',
      'Check that applied migrations still match their files (checksums)',
      (y: Argv) => y,
      withMigrator(async (m) => {
        const report = await m.verify();
        return { exitCode: report.ok ? ExitCode.success : ExitCode.drift, json: report, text: renderVerify(report) };
      }),
    )
    .command(
      'unlock',
      'Remove an expired lock; --force removes a live one (only if its process is gone)',
      (y: Argv) => y.option('force', { type: 'boolean', default: false }),
      withMigrator(async (m, a) => {
        const args = a as GlobalArgs & { force: boolean };
        const result = await m.unlock({ force: args.force });
        const text = result.removed
          ? `Removed the ${result.expired ? 'expired' : 'live'} lock of host ${result.holder?.host}, pid ${result.holder?.pid}.`
          : 'No lock is held.';
        return { exitCode: result.removed ? ExitCode.success : ExitCode.nothingToDo, json: result, text };
      }),
    )
    .command(
      'create <name>',
      'Write the next numbered migration file from the template',
      (y: Argv) => y.positional('name', { type: 'string', demandOption: true, describe: 'What it does, e.g. "add wallet index"' }),
      async (a: unknown) => {
        const args = a as GlobalArgs & { name: string };
        const [source, ...rest] = resolveSources(args);
        if (!source || rest.length > 0) throw new InvalidOptionError('create writes into one migrations folder: pass exactly one --migrations.');
        const file = await createMigrationFile(source, args.name);
        done({ exitCode: ExitCode.success, json: { file }, text: `Created ${file}` });
      },
    )
    .demandCommand(1, 'Name a command: preview, status, up, down, create, history, verify or unlock')
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      // yargs reports its own validation (and our coerce checks) as YError: that is bad input.
      if (error && error.name !== 'YError') throw error;
      throw new InvalidOptionError(`${(message ?? error?.message ?? 'Bad arguments').replace(/\.+$/, '')}. Run \`migrate --help\` for usage.`, { cause: error });
    })
    .help()
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100));
}

function resolveSources(args: Pick<GlobalArgs, 'migrations'>): MigrationSource[] {
  return args.migrations.map((spec) => {
    const isFile = (() => {
      try {
        return statSync(path.resolve(spec)).isFile();
      } catch {
        return false;
      }
    })();
    if (isFile) {
      throw new InvalidOptionError(`--migrations ${spec} is a file, not a folder: pass the folder that holds the migrations (${path.dirname(path.resolve(spec))}).`);
    }
    return resolveSource(spec);
  });
}

/** A yargs `coerce` for a whole-number option: anything else is bad input that names the flag and the value. */
function wholeNumber(flag: string, expected: string, min: number, max = Number.MAX_SAFE_INTEGER): (raw: unknown) => number {
  return (raw: unknown) => {
    if (Array.isArray(raw)) throw new InvalidOptionError(`${flag} was given ${raw.length} times: give it once.`);
    const text = String(raw).trim();
    const value = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new InvalidOptionError(`${flag} must be ${expected} (got ${text || '""'}).`);
    return value;
  };
}

/** The database is the connection string's path; without one the driver would silently use `test`. */
function requireDatabase(uri: string, from: string): void {
  let pathname: string;
  try {
    pathname = new ConnectionString(uri).pathname;
  } catch {
    return; // Migrator.connect reports a malformed connection string, redacted.
  }
  if (pathname.replace(/^\//, '') === '') {
    throw new InvalidOptionError(
      `The connection string in ${from} names no database, so the driver would silently use "test". Put the database in its path: mongodb://host[:port]/database.`,
    );
  }
}

async function withProgress<T>(m: Migrator, io: CliIo, logger: Logger, run: () => Promise<T>): Promise<T> {
  const stop = reportProgress(m, { tty: io.tty, logger });
  try {
    return await run();
  } finally {
    stop();
  }
}

/** SIGINT/SIGTERM stop the run at the next batch boundary (state recorded, lock released); a second one exits at once. */
async function interruptible<T>(logger: Logger, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`\nSecond ${signal}: exiting now. The lease expires by itself; rerun to resume.\n`);
      process.exit(ExitCode.interrupted);
    }
    logger.warn(`${signal} received: stopping at the next batch boundary (press again to exit at once)`);
    controller.abort(new InterruptedError(`stopped by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await run(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
