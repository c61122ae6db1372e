import { DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, DEFAULT_LEASE_MS, MAX_LEASE_MS, MIN_LEASE_MS, MAX_BATCH_SIZE, MAX_CONCURRENCY, DEFAULT_LOCK_WAIT_TIMEOUT_MS, DEFAULT_SERVER_SELECTION_TIMEOUT_MS, InvalidOptionError } from '@mongrate/core';
import type { Argv } from 'yargs';

/** The largest batch the data toolkit accepts (core's constant, re-exported). */
export { MAX_BATCH_SIZE };
export const DEFAULT_CLI_LOG_LEVEL = 'warn';

/** A yargs `coerce` for a whole-number option: anything else is bad input that names the flag and the value. */
export function wholeNumber(flag: string, expected: string, min: number, max = Number.MAX_SAFE_INTEGER): (raw: unknown) => number {
  return (raw: unknown) => {
    if (Array.isArray(raw)) throw new InvalidOptionError(`${flag} was given ${raw.length} times: give it once.`);
    const text = String(raw).trim();
    const value = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new InvalidOptionError(`${flag} must be ${expected} (got ${text || '""'}).`);
    return value;
  };
}

/** A string option given at most once. */
function once(flag: string): (raw: unknown) => string {
  return (raw: unknown) => {
    if (Array.isArray(raw)) throw new InvalidOptionError(`${flag} was given ${raw.length} times: give it once.`);
    return String(raw);
  };
}

/** Repeatable; not an array option, so `--migrations dir up` still reads `up` as the command. */
const repeatable = (raw: unknown): string[] => (Array.isArray(raw) ? raw : [raw]).map(String);

/**
 * Options every command takes. Settings (uri, migrations, database, lease, lock timeout, batch size, concurrency, connect timeout)
 * have no yargs default: an absent flag falls back to MONGRATE_* variables, then the config file, then core's defaults.
 */
export function globalOptions(y: Argv) {
  return y
    .option('uri', { type: 'string', coerce: once('--uri'), describe: 'MongoDB connection string with the database in its path. Prefer MONGODB_URI: a password here is visible in ps and shell history' })
    .option('migrations', { type: 'string', coerce: repeatable, describe: 'A migrations folder or plugin package; repeat for more (default ./migrations)' })
    .option('database', { type: 'string', coerce: once('--database'), describe: "Database name (default: the connection string's)" })
    .option('config', { type: 'string', coerce: once('--config'), describe: 'Config file (default: mongrate.config.{js,mjs,cjs,json} found from here upwards)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print one machine-readable JSON document' })
    .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask for confirmation (required for down when not interactive)' })
    .option('log-level', { type: 'string', default: DEFAULT_CLI_LOG_LEVEL, choices: ['error', 'warn', 'info', 'debug'], describe: 'Log level (logs go to stderr)' })
    .option('log-format', { type: 'string', default: 'pretty', choices: ['pretty', 'json'] as const, describe: 'Log line format' })
    .option('lock-timeout', { type: 'string', coerce: wholeNumber('--lock-timeout', 'a whole number of seconds, 0 or more', 0), describe: `Seconds to wait for another process holding the lock (default ${DEFAULT_LOCK_WAIT_TIMEOUT_MS / 1000})` })
    .option('lease', { type: 'string', coerce: wholeNumber('--lease', `a whole number of seconds from ${MIN_LEASE_MS / 1000} to ${MAX_LEASE_MS / 1000} (one day)`, MIN_LEASE_MS / 1000, MAX_LEASE_MS / 1000), describe: `Lock lease in seconds, renewed every third of it (default ${DEFAULT_LEASE_MS / 1000})` })
    .option('batch-size', { type: 'string', coerce: wholeNumber('--batch-size', `a whole number from 1 to ${MAX_BATCH_SIZE}`, 1, MAX_BATCH_SIZE), describe: `Documents per batch for data migrations (default ${DEFAULT_BATCH_SIZE})` })
    .option('concurrency', { type: 'string', coerce: wholeNumber('--concurrency', `a whole number from 1 to ${MAX_CONCURRENCY}`, 1, MAX_CONCURRENCY), describe: `Batches of data work in flight at once; 1 for one at a time (default ${DEFAULT_CONCURRENCY})` })
    .option('connect-timeout', { type: 'string', coerce: wholeNumber('--connect-timeout', 'a positive whole number of milliseconds', 1), describe: `Milliseconds to wait for the server before failing (default ${DEFAULT_SERVER_SELECTION_TIMEOUT_MS})` });
}

export type ArgsOf<Y> = Y extends Argv<infer T> ? T : never;
export type GlobalArgs = ArgsOf<ReturnType<typeof globalOptions>>;

/** The migration a command acts on, by id, name or number. */
export function idPositional(describe: string) {
  return <T>(y: Argv<T>) => y.positional('id', { type: 'string', describe });
}

/** How far `up`/`down` go: `--to` or `--step`. */
export function rangeOptions(verb: 'Apply' | 'Roll back') {
  return <T>(y: Argv<T>) =>
    y
      .option('to', { type: 'string', coerce: once('--to'), describe: verb === 'Apply' ? 'Apply up to and including this migration' : 'Roll back down to and including this migration; 0 for all' })
      .option('step', { type: 'string', coerce: wholeNumber('--step', 'a positive whole number', 1), describe: `${verb} this many` });
}
