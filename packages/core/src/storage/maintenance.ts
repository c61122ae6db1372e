import type { Db } from 'mongodb';
import type { LoadedMigration } from '../load-migrations.js';
import type { MigrationLock } from '../migration-lock.js';
import type { HistoryEntry, MigrationRecord } from '../migration-storage.js';
import type { RunIdentity } from '../run-identity.js';
import { stateCollection } from '../state-collections.js';

/** What `baseline` and `repair` need: they change state records under the lock and run no migration. */
export interface MaintenanceDeps {
  readonly db: Db;
  readonly collections: { readonly migrations: string; readonly history: string };
  readonly lock: MigrationLock;
  readonly identity: RunIdentity;
  readonly migrations: readonly LoadedMigration[];
  /** Server time. */
  now(): Promise<Date>;
}

export type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Runs `work` under the migration lock, with the state collections. */
export async function underMaintenanceLock<T>(
  deps: MaintenanceDeps,
  work: (state: {
    records: ReturnType<typeof stateCollection<Writable<MigrationRecord>>>;
    history: ReturnType<typeof stateCollection<HistoryEntry>>;
  }) => Promise<T>,
): Promise<T> {
  const lease = await deps.lock.acquire();
  // Without `stillNeeded` the lock either resolves a lease or throws.
  try {
    return await work({
      records: stateCollection<Writable<MigrationRecord>>(deps.db, deps.collections.migrations),
      history: stateCollection<HistoryEntry>(deps.db, deps.collections.history),
    });
  } finally {
    await lease?.release();
  }
}

/** A history entry for a state change that ran nothing. */
export function maintenanceEntry(
  deps: MaintenanceDeps,
  now: Date,
  entry: Pick<HistoryEntry, 'migrationId' | 'direction' | 'outcome' | 'checksum'> & { readonly reason?: string; readonly repair?: string },
): HistoryEntry {
  const { runId, host, pid, user } = deps.identity;
  return { ...entry, startedAt: now, finishedAt: now, durationMs: 0, runId, host, pid, user, ...(entry.reason ? { reason: entry.reason } : {}) };
}
