import { InvalidOptionError } from '../errors.js';
import { findMigration, namespaceOfId } from '../sources/load-migrations.js';
import { MigrationStatus, isExecuted, type MigrationRecord } from './migration-storage.js';
import { maintenanceEntry, underMaintenanceLock, type MaintenanceDeps } from './maintenance.js';

/** What a repair marks a migration as. */
export const RepairResolution = { applied: 'applied', pending: 'pending' } as const;
export type RepairResolution = (typeof RepairResolution)[keyof typeof RepairResolution];

export interface RepairOptions {
  /** Why: recorded in history with who did it. Required. */
  readonly reason: string;
  /** Only this migration. Default: every applied migration whose file changed. */
  readonly migration?: string;
  /**
   * With `migration`: mark a failed or partly run migration `applied` (its data is complete) or `pending` (its data is
   * gone; status `rolled_back`) without running anything, e.g. after a failed run was finished or undone by hand.
   * `pending` also takes an applied migration (undone by hand, baselined, or whose file is gone). What would change
   * nothing, or mark applied what never ran to the end (`baseline` does that, for work done by hand), is refused
   * (`InvalidOptionError`). Default: accept checksums only.
   */
  readonly resolve?: RepairResolution;
  /**
   * With `resolve: 'pending'` of a migration whose source is not loaded (no loaded source has its namespace): confirms
   * that the source was removed for good. Without it that is refused, since the file may only have been left out of
   * `sources`, and the next `up` that loads it would run it again. Default `false`.
   */
  readonly sourceRemoved?: boolean;
}

export interface RepairResult {
  /** Applied migrations whose recorded checksum was replaced by the file's. */
  readonly checksums: ReadonlyArray<{ readonly id: string; readonly from: string; readonly to: string }>;
  /** Applied migrations whose file is missing: not repairable here (restore the file, or resolve them as pending). */
  readonly missing: readonly string[];
  readonly resolved?: { readonly id: string; readonly from: MigrationRecord['status']; readonly to: MigrationRecord['status'] };
}

/**
 * Changes recorded state without running any migration, under the lock: accepts the current checksums of applied
 * migrations after a reviewed, cosmetic edit (clearing drift), or resolves one migration's record as applied or pending.
 * Each change gets a history entry (outcome `repaired`) with the reason and the run identity.
 */
export async function repair(deps: MaintenanceDeps, options: RepairOptions): Promise<RepairResult> {
  if (typeof options.reason !== 'string' || options.reason.trim() === '') {
    throw new InvalidOptionError('A repair needs a reason (the reason option): it is recorded in history with who did it. Nothing was changed.');
  }
  if (options.resolve !== undefined && !Object.values(RepairResolution).includes(options.resolve)) {
    throw new InvalidOptionError(`resolve must be "applied" or "pending" (got ${JSON.stringify(options.resolve)}). Nothing was changed.`);
  }
  if (options.resolve && !options.migration) throw new InvalidOptionError('resolve needs the migration option: name the one migration to resolve. Nothing was changed.');
  const files = new Map(deps.migrations.map((m) => [m.id, m]));
  const reason = options.reason.trim();
  return underMaintenanceLock(deps, async () => {
    const records = await deps.storage.records();
    const named = options.migration ? resolveNamed(options.migration, options.resolve, deps, records) : undefined;
    const all = records.filter((r) => !named || r._id === named.id);
    const now = await deps.now();
    if (named && options.resolve) {
      const record = all[0];
      if (!record) throw new InvalidOptionError(`${named.id} has never run here, so there is nothing to resolve; use baseline to mark it applied. Nothing was changed.`);
      refuseUnresolvable(record, options.resolve);
      if (!files.has(record._id) && !options.sourceRemoved) refuseUnloadedSource(record, deps.migrations);
      const to = options.resolve === 'applied' ? MigrationStatus.applied : MigrationStatus.rolledBack;
      const direction = options.resolve === 'applied' ? 'up' : 'down';
      // A failed or interrupted `down` resolved as applied was applied before: it keeps its place in rollback order.
      const appliedAt = record.direction === 'down' && record.appliedAt ? record.appliedAt : now;
      await deps.storage.amend(named.id, {
        set: { status: to, direction, finishedAt: now, checksum: named.checksum, ...(to === MigrationStatus.applied ? { appliedAt } : {}) },
        unset: ['checkpoint', 'error', 'fence', ...(to === MigrationStatus.applied ? [] : (['appliedAt', 'baseline', 'outOfOrder'] as const))],
        history: maintenanceEntry(deps, now, { migrationId: named.id, direction, outcome: 'repaired', checksum: named.checksum, reason, repair: `resolved:${options.resolve}` }),
      });
      return { checksums: [], missing: [], resolved: { id: named.id, from: record.status, to } };
    }
    const checksums: Array<{ id: string; from: string; to: string }> = [];
    const missing: string[] = [];
    for (const record of all.filter(isExecuted)) {
      const file = files.get(record._id);
      if (!file) {
        missing.push(record._id);
        continue;
      }
      if (file.checksum === record.checksum) continue;
      await deps.storage.amend(record._id, {
        set: { checksum: file.checksum },
        history: maintenanceEntry(deps, now, {
          migrationId: record._id,
          direction: record.direction,
          outcome: 'repaired',
          checksum: file.checksum,
          reason,
          repair: `checksum:${record.checksum.slice(0, 12)}`,
        }),
      });
      checksums.push({ id: record._id, from: record.checksum, to: file.checksum });
    }
    return { checksums, missing };
  });
}

/**
 * `resolve` is for a migration left failed or part-way (`applying`, `reverting`), and, as `pending`, for an applied one
 * whose data is gone. Refused: a resolve that would change nothing, and `applied` for a rolled-back migration (its change
 * is not in the database as far as the records know: `up` applies it, `baseline` records work done by hand).
 */
function refuseUnresolvable(record: MigrationRecord, resolve: RepairResolution): void {
  const { status, _id: id } = record;
  if (status === MigrationStatus.failed || status === MigrationStatus.applying || status === MigrationStatus.reverting) return;
  if (status === MigrationStatus.applied && resolve === RepairResolution.pending) return;
  if (status === MigrationStatus.applied) {
    throw new InvalidOptionError(`${id} is applied already: there is nothing to resolve. Nothing was changed.`, { remedies: [{ call: 'status' }] });
  }
  if (resolve === RepairResolution.pending) {
    throw new InvalidOptionError(`${id} is ${status}, which counts as pending already: there is nothing to resolve. Nothing was changed.`, { remedies: [{ call: 'status' }] });
  }
  throw new InvalidOptionError(
    `${id} is ${status}: its change is not in the database as far as the records know, so it cannot be resolved as applied. ` +
      '`up` applies it; if its change was made by hand, `baseline` records it as applied without running it. Nothing was changed.',
    {
      remedies: [
        { call: 'up', options: { migration: id }, why: 'It applies it.' },
        { call: 'baseline', options: { migration: id, reason: '…' }, why: 'It records work done by hand.' },
      ],
    },
  );
}

/** A missing file whose namespace no loaded source has may only be left out of `sources`: resolving it as pending would make it run again once loaded. */
function refuseUnloadedSource(record: MigrationRecord, migrations: MaintenanceDeps['migrations']): void {
  const namespace = record.source?.namespace ?? namespaceOfId(record._id);
  if (migrations.some((m) => m.namespace === namespace)) return;
  throw new InvalidOptionError(
    `No loaded source has the namespace "${namespace}" of ${record._id}: its file may only be left out of \`sources\`, and once that source is loaded again the next \`up\` would run it again. ` +
      'Load that source and repair nothing (or resolve it with its file loaded); if the source was removed for good, confirm it with option `sourceRemoved`. Nothing was changed.',
    { remedies: [{ call: 'repair', options: { migration: record._id, resolve: 'pending', sourceRemoved: true, reason: '…' }, why: 'Only if that source was removed for good.' }] },
  );
}

/**
 * The migration a repair names: one with a file, or, to resolve as pending, a record whose file is gone (by its exact
 * id: otherwise an applied migration deleted from the code could never be cleared without restoring its file).
 */
function resolveNamed(
  reference: string,
  resolve: RepairResolution | undefined,
  deps: MaintenanceDeps,
  records: readonly MigrationRecord[],
): { readonly id: string; readonly checksum: string } {
  try {
    return findMigration(reference, deps.migrations);
  } catch (error) {
    const orphan = records.find((r) => r._id === reference);
    if (orphan && resolve === RepairResolution.pending) return { id: orphan._id, checksum: orphan.checksum };
    throw error;
  }
}
