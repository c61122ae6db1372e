import { statSync } from 'node:fs';
import path from 'node:path';
import { InvalidOptionError, Migrator, createLogger, databaseInUri, hasPassword, redactSecrets, resolveSource, type MigrationSource } from '@mongrate/core';
import winston, { type Logger } from 'winston';
import type { CliIo } from './cli-io.js';
import type { Outcome } from './command.js';
import { ForcedExit } from './interrupt.js';
import type { GlobalArgs } from './options.js';
import { renderLockWait } from './render.js';
import { resolveSettings, type ResolvedSettings } from './settings.js';
import { enableTypeScriptMigrations } from './typescript-loader.js';

/** What a command that talks to the database gets. */
export interface MigratorSession {
  readonly migrator: Migrator;
  readonly logger: Logger;
  readonly resolved: ResolvedSettings;
}

export function loggerFor(args: GlobalArgs, io: CliIo): Logger {
  return createLogger({ level: args['log-level'], format: args['log-format'] === 'json' ? 'json' : 'pretty', transports: [new winston.transports.Stream({ stream: io.stderr })] });
}

/** Resolves the settings, connects, loads the migrations, runs `work`, closes (except after a forced exit). */
export async function withMigrator(args: GlobalArgs, io: CliIo, work: (session: MigratorSession) => Promise<Outcome>): Promise<Outcome> {
  const logger = loggerFor(args, io);
  const resolved = await resolveSettings(args, io);
  const { settings } = resolved;
  const sources = resolveSources(settings.migrations, io.cwd);
  const uri = settings.uri;
  if (!uri) {
    throw new InvalidOptionError(
      resolved.uriEnv
        ? `No connection string: ${resolved.uriEnv}, the variable ${resolved.configFile ?? 'the config file'} names with uriEnv, is unset or empty (and so are MONGRATE_URI and MONGODB_URI). Set ${resolved.uriEnv}, or pass --uri mongodb://host:port/database.`
        : "No connection string: set MONGODB_URI (or MONGRATE_URI, a config file's uri/uriEnv, or pass --uri mongodb://host:port/database).",
    );
  }
  if (resolved.uriFromFlag && hasPassword(uri)) {
    io.stderr.write(
      `Warning: --uri carries a password (${redactSecrets(uri)}): other local users can read it with ps, and it stays in shell history. ` +
        'Pass the connection string in MONGODB_URI, or name its variable with uriEnv in mongrate.config.*.\n',
    );
  }
  if (!settings.database) requireDatabase(uri, resolved.sources.uri);
  const migrator = await Migrator.connect(uri, {
    sources,
    logger,
    ...(settings.database ? { dbName: settings.database } : {}),
    migrationsCollection: settings.migrationsCollection,
    historyCollection: settings.historyCollection,
    lockCollection: settings.lockCollection,
    lockWaitTimeoutMs: settings.lockWaitTimeoutMs,
    leaseMs: settings.leaseMs,
    batchSize: settings.batchSize,
    concurrency: settings.concurrency,
    allowOutOfOrder: settings.allowOutOfOrder,
    clientOptions: { serverSelectionTimeoutMS: settings.connectTimeoutMs, connectTimeoutMS: settings.connectTimeoutMs },
  });
  // Once per holder: the lock reports every poll.
  let waitingFor: string | undefined;
  migrator.on('lock-waiting', (holder) => {
    if (holder.runId === waitingFor) return;
    waitingFor = holder.runId;
    io.stderr.write(`${renderLockWait(holder, settings.lockWaitTimeoutMs)}\n`);
  });
  let forced = false;
  try {
    await enableTypeScriptMigrations(sources, io.cwd);
    await migrator.load();
    return await work({ migrator, logger, resolved });
  } catch (error) {
    forced = error instanceof ForcedExit;
    throw error;
  } finally {
    // After a forced exit, in-flight operations would hold close() up: the process exits anyway.
    if (!forced) await migrator.close();
  }
}

export function resolveSources(specs: readonly string[], cwd: string): MigrationSource[] {
  return specs.map((spec) => {
    const isFile = (() => {
      try {
        return statSync(path.resolve(cwd, spec)).isFile();
      } catch {
        return false;
      }
    })();
    if (isFile) {
      throw new InvalidOptionError(`--migrations ${spec} is a file, not a folder: pass the folder that holds the migrations (${path.dirname(path.resolve(cwd, spec))}).`);
    }
    return resolveSource(spec, cwd);
  });
}

/** The database is the connection string's path; without one the driver would silently use `test`. */
function requireDatabase(uri: string, from: string): void {
  // A malformed connection string (undefined) is Migrator.connect's to report, redacted.
  if (databaseInUri(uri) === '') {
    throw new InvalidOptionError(
      `The connection string (${from}) names no database, so the driver would silently use "test". Put the database in its path (mongodb://host[:port]/database), or set --database.`,
    );
  }
}
