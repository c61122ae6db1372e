import type { MigrationLock } from '../lock/migration-lock.js';
import type { RunIdentity } from '../lock/run-identity.js';
import type { LoadedMigration } from '../sources/load-migrations.js';
import type { HistoryEntry, MigrationStorage } from './migration-storage.js';

/** What `baseline` and `repair` need: they change records under the lock and run no migration. */
export interface MaintenanceDeps {
  readonly storage: MigrationStorage;
  readonly lock: MigrationLock;
  readonly identity: RunIdentity;
  readonly migrations: readonly LoadedMigration[];
  /** Server time. */
  now(): Promise<Date>;
}

/** Runs `work` under the migration lock. */
export async function underMaintenanceLock<T>(deps: MaintenanceDeps, work: () => Promise<T>): Promise<T> {
  // Without `stillNeeded` the lock either resolves a lease or throws.
  const lease = await deps.lock.acquire();
  try {
    return await work();
  } finally {
    await lease?.release();
  }
}

/** The history entry of a state change that ran nothing. */
export function maintenanceEntry(
  deps: MaintenanceDeps,
  now: Date,
  entry: Pick<HistoryEntry, 'migrationId' | 'direction' | 'outcome' | 'checksum'> & { readonly reason?: string; readonly repair?: string },
): Omit<HistoryEntry, '_id'> {
  const { runId, host, pid, user } = deps.identity;
  return { ...entry, startedAt: now, finishedAt: now, durationMs: 0, runId, host, pid, user, ...(entry.reason ? { reason: entry.reason } : {}) };
}
