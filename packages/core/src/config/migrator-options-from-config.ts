import type { MigratorOptions } from '../migrator.js';
import { resolveSource } from '../sources/migration-source.js';
import type { MongrateConfig } from './load-config.js';

/** The Migrator options a config sets, for `Migrator.connect(uri, options)` or `new Migrator({ client, ...options })`. */
export interface ConfiguredMigratorOptions {
  /** The connection string: the variable named by `uriEnv` when it is set and not empty, else `uri`. */
  readonly uri?: string;
  readonly options: Partial<
    Pick<MigratorOptions, 'sources' | 'dbName' | 'migrationsCollection' | 'historyCollection' | 'lockCollection' | 'leaseMs' | 'lockWaitTimeoutMs' | 'batchSize' | 'concurrency' | 'allowOutOfOrder'>
  >;
}

/** Turns a loaded config into Migrator options (what the CLI does, minus flags). */
export function migratorOptionsFromConfig(config: MongrateConfig, env: Readonly<Record<string, string | undefined>> = process.env): ConfiguredMigratorOptions {
  const uri = (config.uriEnv ? env[config.uriEnv] : undefined) || config.uri;
  const { migrations, database, migrationsCollection, historyCollection, lockCollection, leaseMs, lockWaitTimeoutMs, batchSize, concurrency, allowOutOfOrder } = config;
  return {
    ...(uri ? { uri } : {}),
    options: {
      ...(migrations ? { sources: migrations.map((spec) => resolveSource(spec)) } : {}),
      ...(database ? { dbName: database } : {}),
      ...(migrationsCollection ? { migrationsCollection } : {}),
      ...(historyCollection ? { historyCollection } : {}),
      ...(lockCollection ? { lockCollection } : {}),
      ...(leaseMs !== undefined ? { leaseMs } : {}),
      ...(lockWaitTimeoutMs !== undefined ? { lockWaitTimeoutMs } : {}),
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(allowOutOfOrder !== undefined ? { allowOutOfOrder } : {}),
    },
  };
}
