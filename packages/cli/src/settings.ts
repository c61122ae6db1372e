import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_HISTORY_COLLECTION,
  DEFAULT_LEASE_MS,
  DEFAULT_LOCK_COLLECTION,
  DEFAULT_LOCK_WAIT_TIMEOUT_MS,
  DEFAULT_MIGRATIONS_COLLECTION,
  DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
  InvalidOptionError,
  ambiguousConfigFiles,
  configFromEnv,
  databaseInUri,
  databaseNameProblem,
  findConfigFiles,
  loadConfig,
  redactSecrets,
  type MongrateConfig,
} from '@mongrate/core';
import type { CliIo } from './cli-io.js';
import type { GlobalArgs } from './options.js';

export const DEFAULT_MIGRATIONS_DIR = './migrations';

/** The settings a command runs with, each from the first of: flag, environment, config file, default. */
export interface Settings {
  readonly uri?: string;
  readonly migrations: readonly string[];
  readonly database?: string;
  readonly migrationsCollection: string;
  readonly historyCollection: string;
  readonly lockCollection: string;
  readonly leaseMs: number;
  readonly lockWaitTimeoutMs: number;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly connectTimeoutMs: number;
  readonly template?: string;
  readonly allowOutOfOrder: boolean;
}

export type SettingName = keyof Settings;

/** Where each setting came from, e.g. `flag --lease`, `env MONGRATE_LEASE_MS`, `config /app/mongrate.config.json`, `default`. */
export type SettingSources = Readonly<Record<SettingName, string>>;

export interface ResolvedSettings {
  readonly settings: Settings;
  readonly sources: SettingSources;
  /** The config file read, if any. */
  readonly configFile?: string;
  /** The uri came from `--uri`. */
  readonly uriFromFlag: boolean;
  /** The database the connection string's path names, used when `database` is unset. */
  readonly uriDatabase?: string;
  /** The variable the config file names with `uriEnv`, if it names one. */
  readonly uriEnv?: string;
}

/**
 * Flags win over `MONGRATE_*` (and the connection string's variables), which win over the config file, which wins over
 * core's defaults. Bad values (a database name MongoDB refuses, a count out of range) are refused here, before anything connects.
 */
export async function resolveSettings(args: GlobalArgs, io: CliIo): Promise<ResolvedSettings> {
  if (args.config === '') throw new InvalidOptionError('--config is empty: name a config file, or leave the flag out to find mongrate.config.* from here upwards.');
  const named = args.config ?? (io.env.MONGRATE_CONFIG || undefined);
  if (named && !args.config && !existsSync(path.resolve(io.cwd, named))) {
    throw new InvalidOptionError(`MONGRATE_CONFIG names ${path.resolve(io.cwd, named)}, which does not exist: fix the variable, or unset it to find mongrate.config.* from here upwards.`);
  }
  // Searched here rather than by loadConfig, so that two files are refused in command-line terms.
  const found = named ? [named] : findConfigFiles(io.cwd);
  if (found.length > 1) throw new InvalidOptionError(`${ambiguousConfigFiles(found)}: delete all but one, or name the one to read with --config (or MONGRATE_CONFIG).`);
  const file = found[0];
  const loaded = await loadConfig({ cwd: io.cwd, ...(file ? { file } : {}) });
  const fromEnv = configFromEnv(io.env);
  const configLabel = `config ${loaded.file ?? ''}`;
  type Chosen<T> = { readonly value: T; readonly source: string };
  const choose = <K extends keyof MongrateConfig, D extends MongrateConfig[K] | undefined>(
    key: K,
    flag: { readonly label: string; readonly value: MongrateConfig[K] | undefined } | undefined,
    fallback: D,
  ): Chosen<NonNullable<MongrateConfig[K]> | D> => {
    const fromFlag = flag?.value;
    if (flag && fromFlag !== undefined) return { value: fromFlag, source: `flag ${flag.label}` };
    const envValue = fromEnv.config[key];
    if (envValue !== undefined) return { value: envValue, source: `env ${fromEnv.names[key] ?? ''}` };
    const configValue = loaded.config[key];
    if (configValue !== undefined) return { value: configValue, source: configLabel };
    return { value: fallback, source: fallback === undefined ? 'unset' : 'default' };
  };
  const seconds = (value: number | undefined) => (value === undefined ? undefined : value * 1000);

  // The connection string: --uri, MONGRATE_URI, the variable the config's uriEnv names (what migratorOptionsFromConfig
  // reads, so that app code and the CLI agree), MONGODB_URI, then the config's uri.
  const uriEnv = loaded.config.uriEnv;
  const uri: Chosen<string | undefined> =
    args.uri !== undefined
      ? { value: args.uri, source: 'flag --uri' }
      : fromEnv.config.uri
        ? { value: fromEnv.config.uri, source: 'env MONGRATE_URI' }
        : uriEnv && io.env[uriEnv]
          ? { value: io.env[uriEnv], source: `env ${uriEnv} (named by ${configLabel})` }
          : io.env.MONGODB_URI
            ? { value: io.env.MONGODB_URI, source: 'env MONGODB_URI' }
            : loaded.config.uri
              ? { value: loaded.config.uri, source: configLabel }
              : { value: undefined, source: 'unset' };
  const chosen = {
    uri,
    migrations: choose('migrations', { label: '--migrations', value: args.migrations }, [DEFAULT_MIGRATIONS_DIR]),
    database: choose('database', { label: '--database', value: args.database }, undefined),
    migrationsCollection: choose('migrationsCollection', undefined, DEFAULT_MIGRATIONS_COLLECTION),
    historyCollection: choose('historyCollection', undefined, DEFAULT_HISTORY_COLLECTION),
    lockCollection: choose('lockCollection', undefined, DEFAULT_LOCK_COLLECTION),
    leaseMs: choose('leaseMs', { label: '--lease', value: seconds(args.lease) }, DEFAULT_LEASE_MS),
    lockWaitTimeoutMs: choose('lockWaitTimeoutMs', { label: '--lock-timeout', value: seconds(args['lock-timeout']) }, DEFAULT_LOCK_WAIT_TIMEOUT_MS),
    batchSize: choose('batchSize', { label: '--batch-size', value: args['batch-size'] }, DEFAULT_BATCH_SIZE),
    concurrency: choose('concurrency', { label: '--concurrency', value: args.concurrency }, DEFAULT_CONCURRENCY),
    connectTimeoutMs: choose('connectTimeoutMs', { label: '--connect-timeout', value: args['connect-timeout'] }, DEFAULT_SERVER_SELECTION_TIMEOUT_MS),
    template: choose('template', undefined, undefined),
    allowOutOfOrder: choose('allowOutOfOrder', undefined, false),
  } satisfies Record<SettingName, Chosen<unknown>>;
  const settings: Settings = {
    ...(chosen.uri.value !== undefined ? { uri: chosen.uri.value } : {}),
    migrations: chosen.migrations.value,
    ...(chosen.database.value !== undefined ? { database: chosen.database.value } : {}),
    migrationsCollection: chosen.migrationsCollection.value,
    historyCollection: chosen.historyCollection.value,
    lockCollection: chosen.lockCollection.value,
    leaseMs: chosen.leaseMs.value,
    lockWaitTimeoutMs: chosen.lockWaitTimeoutMs.value,
    batchSize: chosen.batchSize.value,
    concurrency: chosen.concurrency.value,
    connectTimeoutMs: chosen.connectTimeoutMs.value,
    ...(chosen.template.value !== undefined ? { template: chosen.template.value } : {}),
    allowOutOfOrder: chosen.allowOutOfOrder.value,
  };
  const sources = Object.fromEntries(Object.entries(chosen).map(([name, c]) => [name, c.source])) as Record<SettingName, string>;
  const uriDatabase = (uri.value === undefined ? undefined : databaseInUri(uri.value)) || undefined;
  if (settings.database !== undefined) checkDatabaseName(settings.database, databaseSource(chosen.database.source, loaded.file));
  else if (uriDatabase !== undefined) checkDatabaseName(uriDatabase, { name: `the connection string's path, from ${uriSource(uri.source)}`, fix: `fix the path of ${uriSource(uri.source)}, or give --database` });
  return {
    settings,
    sources,
    ...(loaded.file ? { configFile: loaded.file } : {}),
    uriFromFlag: args.uri !== undefined,
    ...(uriDatabase === undefined ? {} : { uriDatabase }),
    ...(uriEnv ? { uriEnv } : {}),
  };
}

/** Where a database name came from: `name` for the message, `fix` for the remedy. */
interface DatabaseSource {
  readonly name: string;
  readonly fix: string;
}

function databaseSource(source: string, configFile: string | undefined): DatabaseSource {
  if (source === 'flag --database') return { name: '--database', fix: 'give --database another name' };
  if (source.startsWith('env ')) return { name: source.slice(4), fix: `set ${source.slice(4)} to another name, or unset it` };
  return { name: `database in ${configFile ?? 'the config file'}`, fix: 'change database in the config file, or give --database' };
}

/** `env MONGODB_URI` → `MONGODB_URI`; `flag --uri` → `--uri`; `config /app/mongrate.config.json` → `uri in /app/mongrate.config.json`. */
function uriSource(source: string): string {
  return source.startsWith('config ') ? `uri in ${source.slice('config '.length)}` : source.replace(/^(env|flag) /, '');
}

/** Refuses a database name MongoDB would refuse (`databaseNameProblem`), naming where it came from, the rule, and the remedy. */
function checkDatabaseName(name: string, from: DatabaseSource): void {
  const problem = databaseNameProblem(name);
  if (problem !== undefined) throw new InvalidOptionError(`Database name ${JSON.stringify(name)} (${from.name}) ${problem}: ${from.fix}.`);
}

/** Each setting, its value (the connection string redacted) and where it came from. */
export function describeSettings(resolved: ResolvedSettings): Array<{ readonly setting: SettingName; readonly value: string; readonly source: string }> {
  return (Object.keys(resolved.sources) as SettingName[]).map((setting) => {
    if (setting === 'database' && resolved.settings.database === undefined && resolved.uriDatabase !== undefined) {
      return { setting, value: resolved.uriDatabase, source: `the connection string's path (${resolved.sources.uri})` };
    }
    const value = resolved.settings[setting];
    const text = value === undefined ? '-' : Array.isArray(value) ? value.join(', ') : String(value);
    return { setting, value: setting === 'uri' ? redactSecrets(text) : text, source: resolved.sources[setting] };
  });
}
