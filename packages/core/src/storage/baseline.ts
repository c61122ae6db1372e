import { InvalidOptionError } from '../errors.js';
import { findMigration } from '../sources/load-migrations.js';
import { MigrationStatus } from './migration-storage.js';
import { maintenanceEntry, underMaintenanceLock, type MaintenanceDeps } from './maintenance.js';

export interface BaselineOptions {
  /** Why, recorded in history. Default: none. */
  readonly reason?: string;
}

export interface BaselineResult {
  /** Marked applied now, in run order. */
  readonly baselined: readonly string[];
  /** Already applied: left as they were. */
  readonly alreadyApplied: readonly string[];
}

/**
 * Marks every migration of its source up to and including `migration` (in run order) as applied without running it: the way a database
 * that already holds the data adopts migrations. Records are `applied` with `baseline: true`, the file's checksum and the
 * run identity; each gets a history entry with outcome `baseline`. Refuses (writing nothing) when one of them is partly
 * applied or reverted: `repair` resolves those.
 */
export async function baseline(deps: MaintenanceDeps, migration: string, options: BaselineOptions = {}): Promise<BaselineResult> {
  const target = findMigration(migration, deps.migrations);
  // Sources are separate sequences: a baseline of one source's migration never marks another source's.
  const upTo = deps.migrations.slice(0, deps.migrations.indexOf(target) + 1).filter((m) => m.namespace === target.namespace);
  return underMaintenanceLock(deps, async () => {
    const existing = new Map((await deps.storage.records()).map((r) => [r._id, r]));
    const partial = upTo.find((m) => {
      const s = existing.get(m.id)?.status;
      return s !== undefined && s !== MigrationStatus.applied && s !== MigrationStatus.rolledBack;
    });
    if (partial) {
      throw new InvalidOptionError(
        `Cannot baseline ${target.id}: ${partial.id} is ${existing.get(partial.id)?.status} (partly run). Resolve it first with repair (resolve: applied or pending). Nothing was changed.`,
      );
    }
    const now = await deps.now();
    const baselined: string[] = [];
    const alreadyApplied: string[] = [];
    for (const m of upTo) {
      if (existing.get(m.id)?.status === MigrationStatus.applied) {
        alreadyApplied.push(m.id);
        continue;
      }
      const { runId, host, pid, user } = deps.identity;
      await deps.storage.amend(m.id, {
        set: {
          checksum: m.checksum,
          status: MigrationStatus.applied,
          direction: 'up',
          source: { namespace: m.namespace, ...(m.source.version ? { version: m.source.version } : {}) },
          startedAt: now,
          runAt: now,
          finishedAt: now,
          appliedAt: now,
          durationMs: 0,
          runId,
          host,
          pid,
          user,
          baseline: true,
        },
        unset: ['counts', 'error', 'fence', 'checkpoint', 'outOfOrder'],
        history: maintenanceEntry(deps, now, { migrationId: m.id, direction: 'up', outcome: 'baseline', checksum: m.checksum, ...(options.reason ? { reason: options.reason } : {}) }),
      });
      baselined.push(m.id);
    }
    return { baselined, alreadyApplied };
  });
}
