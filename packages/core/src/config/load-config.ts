import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidOptionError } from '../errors.js';
import { messageOf } from '../driver-errors.js';
import { MAX_BATCH_SIZE, MAX_CONCURRENCY } from '../toolkit/backup-document.js';
import { MAX_LEASE_MS, MIN_LEASE_MS } from '../lock/mongo-lock.js';

/** File names searched for, in this order, from the working folder upwards. */
export const CONFIG_FILE_NAMES = ['mongrate.config.js', 'mongrate.config.mjs', 'mongrate.config.cjs', 'mongrate.config.json'] as const;

/** What `mongrate.config.*` and `MONGRATE_*` variables may set. Units are those of the API (milliseconds). */
export interface MongrateConfig {
  /** Connection string. Prefer `uriEnv`, so that no password sits in a file. */
  readonly uri?: string;
  /** Name of the environment variable holding the connection string, e.g. `DATABASE_URL`. */
  readonly uriEnv?: string;
  /** Migration folders (relative to the config file) or plugin package names, in run order. */
  readonly migrations?: readonly string[];
  /** Database name (default: the connection string's). */
  readonly database?: string;
  readonly migrationsCollection?: string;
  readonly historyCollection?: string;
  readonly lockCollection?: string;
  readonly leaseMs?: number;
  readonly lockWaitTimeoutMs?: number;
  readonly batchSize?: number;
  /** Batches of data work in flight at once (`MigratorOptions.concurrency`). */
  readonly concurrency?: number;
  readonly connectTimeoutMs?: number;
  /** Template file for `create` (relative to the config file). */
  readonly template?: string;
  readonly allowOutOfOrder?: boolean;
}

export type ConfigKey = keyof MongrateConfig;

const KINDS: Record<ConfigKey, 'string' | 'strings' | 'count' | 'boolean'> = {
  uri: 'string',
  uriEnv: 'string',
  migrations: 'strings',
  database: 'string',
  migrationsCollection: 'string',
  historyCollection: 'string',
  lockCollection: 'string',
  leaseMs: 'count',
  lockWaitTimeoutMs: 'count',
  batchSize: 'count',
  concurrency: 'count',
  connectTimeoutMs: 'count',
  template: 'string',
  allowOutOfOrder: 'boolean',
};

/** Every config key. */
export const CONFIG_KEYS = Object.keys(KINDS) as ConfigKey[];

/** `leaseMs` → `MONGRATE_LEASE_MS`. */
export function envName(key: ConfigKey): string {
  return `MONGRATE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export interface LoadedConfig {
  /** Absolute path of the file read, if one was found. */
  readonly file?: string;
  /** Paths in it (`migrations` folders, `template`) made absolute against the file's folder; package names kept. */
  readonly config: MongrateConfig;
}

export interface LoadConfigOptions {
  /** Where the upward search starts. Default: `process.cwd()`. */
  readonly cwd?: string;
  /** This file instead of searching. */
  readonly file?: string;
}

/** Every `mongrate.config.*` of the nearest folder, from `cwd` upwards, that holds one (more than one is ambiguous). */
export function findConfigFiles(cwd: string = process.cwd()): string[] {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    // Keyed by the file they name: two names of one file (a link) count once, by the file's own name (its extension
    // says how to read it).
    const byTarget = new Map<string, string>();
    for (const name of CONFIG_FILE_NAMES) {
      const found = configFileAt(path.join(dir, name));
      if (found && (!byTarget.has(found.key) || !lstatSync(found.file).isSymbolicLink())) byTarget.set(found.key, found.file);
    }
    const found = [...byTarget.values()];
    if (found.length > 0 || path.dirname(dir) === dir) return found;
  }
}

/** `file` and what it names, if it is a file or a link to one; a broken link counts too (reading it then says so); a folder does not. */
function configFileAt(file: string): { readonly file: string; readonly key: string } | undefined {
  try {
    const stat = statSync(file);
    // The device and inode name the file, whatever links (hard or symbolic) lead to it.
    return stat.isFile() ? { file, key: `${stat.dev}:${stat.ino}` } : undefined;
  } catch {
    try {
      lstatSync(file);
      return { file, key: file };
    } catch {
      return undefined;
    }
  }
}

/** "Found 2 config files in /app (…), and which one to read would be a guess", for `findConfigFiles`' answer; each caller adds its remedy. */
export function ambiguousConfigFiles(found: readonly string[]): string {
  return `Found ${found.length} config files in ${path.dirname(found[0] ?? '')} (${found.map((f) => path.basename(f)).join(', ')}), and which one to read would be a guess`;
}

/** The `mongrate.config.*` in `cwd` or the nearest parent folder that has one; two or more in that folder are refused. */
export function findConfigFile(cwd: string = process.cwd()): string | undefined {
  const found = findConfigFiles(cwd);
  if (found.length > 1) throw new InvalidOptionError(`${ambiguousConfigFiles(found)}: delete all but one, or name the one to read (\`loadConfig\`'s \`file\` option).`);
  return found[0];
}

/**
 * Reads `mongrate.config.{js,mjs,cjs,json}` (found upwards from `cwd`, or `file`) and checks it; `{ config: {} }` when
 * there is none. The CLI reads the same file, so app code that calls this agrees with `migrate`.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const file = options.file ? path.resolve(options.cwd ?? process.cwd(), options.file) : findConfigFile(options.cwd);
  if (!file) return { config: {} };
  if (!existsSync(file)) throw new InvalidOptionError(`Config file ${file} does not exist.`);
  if (statSync(file).isDirectory()) throw new InvalidOptionError(`Config file ${file} is a folder: name the config file itself (mongrate.config.js, .mjs, .cjs or .json).`);
  let raw: unknown;
  try {
    if (file.endsWith('.json')) raw = JSON.parse(readFileSync(file, 'utf8'));
    else {
      const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
      raw = mod.default ?? mod;
    }
  } catch (error) {
    throw new InvalidOptionError(`Config file ${file} could not be read: ${messageOf(error)}`, { cause: error });
  }
  return { file, config: resolvePaths(checkConfig(raw, `config file ${file}`, (k) => k, (k) => `fix ${k} in the file`), path.dirname(file)) };
}

/** Settings from `MONGRATE_*` variables (`MONGRATE_MIGRATIONS` is comma-separated), checked like a config file. */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>): { readonly config: MongrateConfig; readonly names: Partial<Record<ConfigKey, string>> } {
  const raw: Record<string, unknown> = {};
  const names: Partial<Record<ConfigKey, string>> = {};
  for (const key of CONFIG_KEYS) {
    const value = env[envName(key)];
    if (value === undefined || value === '') continue;
    names[key] = envName(key);
    const kind = KINDS[key];
    if (kind === 'strings') raw[key] = value.split(',').map((s) => s.trim()).filter(Boolean);
    else if (kind === 'count') raw[key] = /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
    else if (kind === 'boolean') raw[key] = value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
    else raw[key] = value;
  }
  return { config: checkConfig(raw, 'the environment', (k) => envName(k), (k) => `fix ${envName(k)}, or unset it`), names };
}

/** The range of each count, as the flags and the Migrator check it: a config file or `MONGRATE_*` value is refused before anything connects. */
const COUNT_RANGES: Partial<Record<ConfigKey, { readonly min: number; readonly max?: number; readonly expected: string }>> = {
  leaseMs: { min: MIN_LEASE_MS, max: MAX_LEASE_MS, expected: `a whole number of milliseconds from ${MIN_LEASE_MS} to ${MAX_LEASE_MS} (one day)` },
  lockWaitTimeoutMs: { min: 0, expected: 'a whole number of milliseconds, 0 or more' },
  batchSize: { min: 1, max: MAX_BATCH_SIZE, expected: `a whole number from 1 to ${MAX_BATCH_SIZE}` },
  concurrency: { min: 1, max: MAX_CONCURRENCY, expected: `a whole number from 1 to ${MAX_CONCURRENCY}` },
  connectTimeoutMs: { min: 1, expected: 'a positive whole number of milliseconds' },
};

/** `label` names a key as the reader wrote it (`leaseMs`, `MONGRATE_LEASE_MS`); `remedy` says where to fix it. */
function checkConfig(raw: unknown, where: string, label: (k: ConfigKey) => string, remedy: (k: ConfigKey) => string): MongrateConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidOptionError(`The ${where} must hold an object of settings.`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const kind = KINDS[key as ConfigKey];
    if (!kind) throw new InvalidOptionError(`Unknown setting "${key}" in ${where}. Known settings: ${CONFIG_KEYS.join(', ')}.`);
    if (value === undefined) continue;
    const range = COUNT_RANGES[key as ConfigKey] ?? { min: 1, expected: 'a positive whole number' };
    const ok =
      kind === 'string'
        ? typeof value === 'string' && value !== ''
        : kind === 'strings'
          ? (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== '')) || (typeof value === 'string' && value !== '')
          : kind === 'count'
            ? Number.isSafeInteger(value) && (value as number) >= range.min && (value as number) <= (range.max ?? Number.MAX_SAFE_INTEGER)
            : typeof value === 'boolean';
    if (!ok) {
      const expected = { string: 'a non-empty string', strings: 'a non-empty list of strings', count: range.expected, boolean: 'true or false' }[kind];
      throw new InvalidOptionError(`Setting ${label(key as ConfigKey)} in ${where} must be ${expected} (got ${JSON.stringify(value)}): ${remedy(key as ConfigKey)}.`);
    }
    out[key] = kind === 'strings' && typeof value === 'string' ? [value] : value;
  }
  return out as MongrateConfig;
}

/** A folder path relative to the config file; a bare name that is no folder there stays a package name. */
function resolvePaths(config: MongrateConfig, dir: string): MongrateConfig {
  const local = (spec: string) => (path.isAbsolute(spec) || spec.startsWith('.') || existsSync(path.join(dir, spec)) ? path.resolve(dir, spec) : spec);
  return {
    ...config,
    ...(config.migrations ? { migrations: config.migrations.map(local) } : {}),
    ...(config.template ? { template: path.resolve(dir, config.template) } : {}),
  };
}
