import path from 'node:path';
import { Migrator, createLogger, folderSource, type MigratorOptions } from '@mongrate/core';
import type { TestDatabase } from './database.js';
import { REPO_ROOT } from './server.js';

export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
export const NCTOOL_MIGRATIONS = path.join(REPO_ROOT, 'migrations');

/** A migrator on a test database, quiet unless TEST_LOG_LEVEL is set. */
export function testMigrator(t: TestDatabase, dir: string, options: Partial<MigratorOptions> = {}): Migrator {
  return new Migrator({
    client: t.client,
    dbName: t.name,
    sources: [folderSource(dir)],
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error' }),
    ...options,
  });
}
