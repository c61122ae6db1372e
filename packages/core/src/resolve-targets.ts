import {
  ChecksumDriftError,
  InvalidOptionError,
  MigrationAlreadyAppliedError,
  MigrationFileMissingError,
  MigrationNotAppliedError,
  MigrationNotFoundError,
  PartialMigrationError,
  PartlyRevertedError,
  TargetChangedError,
  type DriftEntry,
  BaselinedMigrationError,
} from './errors.js';
import { MigrationStatus, isExecuted, type MigrationRecord } from './storage/migration-storage.js';
import { namespaceOfId } from './sources/load-migrations.js';

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
  const reverting = isPartialDown;
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

/** A `down` that is running, failed or was killed part-way: its data is partly restored. */
export function isPartialDown(record: MigrationRecord): boolean {
  return record.direction === 'down' && (record.status === MigrationStatus.reverting || record.status === MigrationStatus.failed);
}

/** What `up`/`down` may be asked to target; at most one of the three. */
export interface TargetOptions {
  readonly to?: string | 0;
  readonly step?: number;
  readonly migration?: string;
}

/** Rejects `to`, `step` and `migration` given together, and a `step` that is not a positive whole number. */
export function checkTargetOptions(options: TargetOptions): void {
  const keys = ['to', 'step', 'migration'] as const;
  const given = keys.filter((k) => options[k] !== undefined);
  if (given.length > 1) throw new InvalidOptionError(`Options ${given.join(' and ')} cannot be combined; give one of ${keys.join(', ')}.`);
  if (options.step !== undefined && (!Number.isInteger(options.step) || options.step < 1)) {
    throw new InvalidOptionError(`step must be a positive whole number (got ${options.step}).`);
  }
}

/** `down` never reverts a baselined migration (its `up` never ran here): `repair` unmarks it instead. */
export function refuseBaselined(ids: readonly string[], records: readonly MigrationRecord[]): void {
  const baselined = ids.find((id) => records.find((r) => r._id === id)?.baseline === true);
  if (baselined) throw new BaselinedMigrationError(baselined);
}

/** `up` refuses to run past a migration whose rollback is running or was cut short: it would call it applied. */
export function refusePartlyReverted(records: readonly MigrationRecord[], except?: string): void {
  const partly = records.find((r) => isPartialDown(r) && r._id !== except);
  if (partly) throw new PartlyRevertedError(partly._id);
}

/**
 * The migrations `up` would apply, in run order, from the records read before the lock: the named one, every pending
 * one up to `to`, or every pending one. Throws when one is partly reverted, the named one is applied, or (unless
 * `allowDrift`) an applied one drifted. `step` is left to the run.
 */
export function planUp<M extends { readonly id: string }>(
  migrations: readonly M[],
  records: readonly MigrationRecord[],
  target: { readonly named?: M | undefined; readonly to?: M | undefined },
  drift: () => readonly DriftEntry[],
): M[] {
  const { named, to } = target;
  // Only `up` of that one migration re-applies a partly reverted migration; any other `up` refuses.
  refusePartlyReverted(records, named?.id);
  const executed = new Set(records.filter((r) => isExecuted(r) && !(r._id === named?.id && isPartialDown(r))).map((r) => r._id));
  if (named && executed.has(named.id)) throw new MigrationAlreadyAppliedError(named.id);
  const pending = migrations.filter((m) => !executed.has(m.id));
  const eligible = named ? [named] : to ? pending.filter((m) => migrations.indexOf(m) <= migrations.indexOf(to)) : pending;
  if (eligible.length > 0) {
    const drifted = drift();
    if (drifted.length > 0) throw new ChecksumDriftError(drifted, unloadedNamespaces(migrations, drifted));
  }
  return eligible;
}

/**
 * The ids `down` would revert, newest first, from the records read before the lock: the named one (applied or partly
 * applied), the confirmed `expect` list, or what `to`/`step` select. Throws when it cannot be done exactly.
 */
export function planDown(
  runOrder: readonly string[],
  records: readonly MigrationRecord[],
  target: { readonly named?: string | undefined; readonly toId?: string | undefined; readonly to?: string | 0; readonly step?: number; readonly expect?: readonly string[] },
): readonly string[] {
  const { named, expect } = target;
  if (named) {
    const record = records.find((r) => r._id === named);
    if (!record || !(isExecuted(record) || isPartialUp(record))) throw new MigrationNotAppliedError(named);
    if (expect && (expect.length !== 1 || expect[0] !== named)) {
      throw new InvalidOptionError(`Options migration and expect disagree: expect must be ["${named}"] (got ${JSON.stringify(expect)}).`);
    }
    return [named];
  }
  if (expect) {
    for (const id of expect) {
      if (runOrder.includes(id)) continue;
      if (records.some((r) => r._id === id)) throw new MigrationFileMissingError(id);
      throw new MigrationNotFoundError(id, runOrder);
    }
    return expect;
  }
  return planRollback(records, runOrder, { ...(target.to === 0 ? { to: 0 } : {}), ...(target.toId ? { toId: target.toId } : {}), ...(target.step !== undefined ? { step: target.step } : {}) });
}

/** The namespaces (`namespace/NNN_name`) of missing migrations that no loaded migration shares. */
function unloadedNamespaces(migrations: ReadonlyArray<{ readonly id: string }>, drift: readonly DriftEntry[]): string[] {
  const loaded = new Set(migrations.map((m) => namespaceOfId(m.id)));
  return [...new Set(drift.filter((d) => d.kind === 'missing').map((d) => namespaceOfId(d.id)))].filter((n) => n && !loaded.has(n));
}
