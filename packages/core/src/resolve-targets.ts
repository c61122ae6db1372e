import { MigrationFileMissingError, MigrationNotAppliedError, PartialMigrationError, TargetChangedError } from './errors.js';
import { MigrationStatus, type MigrationRecord } from './storage/migration-storage.js';
import { isExecuted } from './storage/mongo-migration-storage.js';

/** What a rollback asks for: the last one (default), `step` of them, down to `to` (`0`: all). */
export interface DownSelection {
  readonly to?: string | 0;
  readonly step?: number;
}

/** Applied migrations in the order a rollback takes them, and the partly applied ones that block it. */
export interface RollbackOrder {
  /** Ids, newest first: partly reverted ones (their rollback was started), then applied ones by finish time. */
  readonly order: readonly string[];
  /** Records of `up` attempts that failed or were killed: their data is partly written. */
  readonly partialUps: readonly MigrationRecord[];
}

const time = (d: Date | undefined) => (d instanceof Date ? d.getTime() : 0);

/**
 * Orders what a rollback may revert by when it was applied (the record's `appliedAt`, else `finishedAt`), newest first,
 * not by file or source order. `runOrder` (ids in file order) only breaks ties.
 */
export function rollbackOrder(records: readonly MigrationRecord[], runOrder: readonly string[]): RollbackOrder {
  const position = new Map(runOrder.map((id, i) => [id, i]));
  const reverting = (r: MigrationRecord) => r.direction === 'down' && r.status !== MigrationStatus.applied;
  const executed = records.filter(isExecuted);
  const compare = (a: MigrationRecord, b: MigrationRecord) => {
    if (reverting(a) !== reverting(b)) return reverting(a) ? -1 : 1;
    const byTime = reverting(a) ? time(b.startedAt) - time(a.startedAt) : time(b.appliedAt ?? b.finishedAt) - time(a.appliedAt ?? a.finishedAt);
    if (byTime !== 0) return byTime;
    const byRun = (position.get(b._id) ?? Infinity) - (position.get(a._id) ?? Infinity);
    return Number.isNaN(byRun) ? b._id.localeCompare(a._id) : byRun;
  };
  const partialUps = records.filter(isPartialUp);
  return { order: executed.sort(compare).map((r) => r._id), partialUps };
}

/**
 * The ids a rollback reverts, newest first. Throws when it cannot be done exactly: nothing applied, the target not applied,
 * a migration in the way whose file is missing, or a partly applied one (it must be reverted by name or finished first).
 */
export function planRollback(
  records: readonly MigrationRecord[],
  runOrder: readonly string[],
  selection: DownSelection & { readonly toId?: string },
): string[] {
  const { order, partialUps } = rollbackOrder(records, runOrder);
  const [partial] = partialUps;
  if (partial) throw new PartialMigrationError(partial._id, partial.status);
  if (order.length === 0) throw new MigrationNotAppliedError(undefined);
  let count = selection.step ?? 1;
  if (selection.to === 0) count = order.length;
  else if (selection.toId !== undefined) {
    const at = order.indexOf(selection.toId);
    if (at === -1) throw new MigrationNotAppliedError(selection.toId);
    count = at + 1;
  }
  const plan = order.slice(0, count);
  const known = new Set(runOrder);
  const missing = plan.find((id) => !known.has(id));
  if (missing) throw new MigrationFileMissingError(missing);
  return plan;
}

/**
 * Re-checks a planned rollback under the lock. Returns what to revert: the planned ids still applied, if they are still
 * the newest; `[]` when another process has reverted them all. Throws `TargetChangedError` otherwise, so a rollback
 * meant for X reverts X or nothing.
 */
export function confirmRollback(planned: readonly string[], records: readonly MigrationRecord[], runOrder: readonly string[]): string[] {
  const { order, partialUps } = rollbackOrder(records, runOrder);
  const applied = new Set(order);
  const remaining = planned.filter((id) => applied.has(id));
  if (remaining.length === 0) return [];
  const [partial] = partialUps;
  if (partial) throw new PartialMigrationError(partial._id, partial.status);
  const newest = order.slice(0, remaining.length);
  if (newest.some((id, i) => id !== remaining[i])) throw new TargetChangedError(planned, order.slice(0, Math.max(1, remaining.length)));
  return remaining;
}

/** An `up` that failed or was killed part-way: its data is partly written. */
export function isPartialUp(record: MigrationRecord): boolean {
  return record.direction === 'up' && (record.status === MigrationStatus.applying || record.status === MigrationStatus.failed);
}
