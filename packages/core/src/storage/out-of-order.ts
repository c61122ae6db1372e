import { OutOfOrderError } from '../errors.js';
import type { LoadedMigration } from '../sources/load-migrations.js';
import type { MigrationRecord } from './migration-storage.js';

/**
 * The migrations of `candidates` that would run out of order: never run here (no record) and sorting before a migration
 * of the same source that is applied. Sources are independent sequences, so a plugin's numbers never block a folder's.
 * Returns pairs (pending id, the latest applied id it sorts before).
 */
export function findOutOfOrder(
  migrations: readonly LoadedMigration[],
  records: readonly MigrationRecord[],
  candidates: readonly LoadedMigration[],
): Array<{ readonly id: string; readonly lastApplied: string }> {
  const byId = new Map(records.map((r) => [r._id, r]));
  const lastApplied = new Map<string, LoadedMigration>();
  for (const m of migrations) {
    if (byId.get(m.id)?.status === 'applied') lastApplied.set(m.namespace, m);
  }
  return candidates.flatMap((m) => {
    const last = lastApplied.get(m.namespace);
    if (byId.has(m.id) || !last || migrations.indexOf(m) > migrations.indexOf(last)) return [];
    return [{ id: m.id, lastApplied: last.id }];
  });
}

/** Throws `OutOfOrderError` for the first migration `findOutOfOrder` returns. */
export function refuseOutOfOrder(found: ReadonlyArray<{ readonly id: string; readonly lastApplied: string }>): void {
  const [first] = found;
  if (first) throw new OutOfOrderError(first.id, first.lastApplied);
}
