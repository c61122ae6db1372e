import { describe, expect, it } from '@jest/globals';
import { MigrationFileMissingError, MigrationNotAppliedError, PartialMigrationError, TargetChangedError, type MigrationRecord } from '@mongrate/core';
// Internal: how `down` orders and re-checks its targets.
import { confirmRollback, planRollback, rollbackOrder } from '../../packages/core/src/resolve-targets.js';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));

function rec(id: string, status: MigrationRecord['status'], direction: 'up' | 'down', times: { applied?: number; finished?: number; started?: number } = {}): MigrationRecord {
  return {
    _id: id,
    status,
    direction,
    checksum: 'x',
    startedAt: at(times.started ?? 0),
    runAt: at(times.started ?? 0),
    ...(times.applied !== undefined ? { appliedAt: at(times.applied) } : {}),
    ...(times.finished !== undefined ? { finishedAt: at(times.finished) } : {}),
    runId: 'r',
    host: 'h',
    pid: 1,
    user: 'u',
  } as MigrationRecord;
}

const RUN_ORDER = ['a/001', 'a/002', 'a/003', 'b/001'];

describe('rollback targets', () => {
  it('orders by applied time, newest first; a started rollback comes first; file order only breaks ties', () => {
    const records = [
      rec('a/001', 'applied', 'up', { applied: 1 }),
      rec('a/002', 'applied', 'up', { applied: 9 }),
      rec('a/003', 'applied', 'up', { applied: 5 }),
      rec('b/001', 'applied', 'up', { applied: 5 }),
      rec('a/000', 'rolled_back', 'down', { finished: 20 }),
    ];
    expect(rollbackOrder(records, RUN_ORDER).order).toEqual(['a/002', 'b/001', 'a/003', 'a/001']);
    const reverting = [...records.slice(0, 2), rec('a/003', 'failed', 'down', { applied: 5, started: 30 })];
    expect(rollbackOrder(reverting, RUN_ORDER).order).toEqual(['a/003', 'a/002', 'a/001']);
  });

  it('falls back to finishedAt for records written before appliedAt existed', () => {
    const records = [rec('a/001', 'applied', 'up', { finished: 7 }), rec('a/002', 'applied', 'up', { applied: 3 })];
    expect(planRollback(records, RUN_ORDER, {})).toEqual(['a/001']);
  });

  it('plans step, to and to 0 over that order', () => {
    const records = [rec('a/001', 'applied', 'up', { applied: 1 }), rec('a/002', 'applied', 'up', { applied: 3 }), rec('b/001', 'applied', 'up', { applied: 2 })];
    expect(planRollback(records, RUN_ORDER, { step: 2 })).toEqual(['a/002', 'b/001']);
    expect(planRollback(records, RUN_ORDER, { toId: 'b/001' })).toEqual(['a/002', 'b/001']);
    expect(planRollback(records, RUN_ORDER, { to: 0 })).toEqual(['a/002', 'b/001', 'a/001']);
    expect(planRollback(records, RUN_ORDER, { step: 10 })).toHaveLength(3);
    expect(() => planRollback(records, RUN_ORDER, { toId: 'a/003' })).toThrow(MigrationNotAppliedError);
    expect(() => planRollback([], RUN_ORDER, {})).toThrow(MigrationNotAppliedError);
  });

  it('refuses a missing file it would revert, but not one older than the plan', () => {
    const records = [rec('a/001', 'applied', 'up', { applied: 1 }), rec('gone/001', 'applied', 'up', { applied: 2 }), rec('a/002', 'applied', 'up', { applied: 3 })];
    expect(planRollback(records, RUN_ORDER, {})).toEqual(['a/002']);
    expect(() => planRollback(records, RUN_ORDER, { step: 2 })).toThrow(MigrationFileMissingError);
    expect(() => planRollback(records, RUN_ORDER, { toId: 'a/001' })).toThrow(/gone\/001 is applied but its file is missing/);
  });

  it('refuses while an up is partly applied, whatever its age', () => {
    const records = [rec('a/001', 'applied', 'up', { applied: 5 }), rec('a/002', 'failed', 'up', { started: 1 })];
    expect(() => planRollback(records, RUN_ORDER, {})).toThrow(PartialMigrationError);
    expect(() => planRollback([rec('a/001', 'applying', 'up')], RUN_ORDER, {})).toThrow(/a\/001 is partly applied .*still marked applying/);
  });

  it('under the lock: the plan still on top runs, a plan already reverted is nothing, anything else is refused', () => {
    const base = [rec('a/001', 'applied', 'up', { applied: 1 }), rec('a/002', 'applied', 'up', { applied: 2 })];
    expect(confirmRollback(['a/002'], base, RUN_ORDER)).toEqual(['a/002']);
    const reverted = [base[0] as MigrationRecord, rec('a/002', 'rolled_back', 'down', { applied: 2, finished: 3 })];
    expect(confirmRollback(['a/002'], reverted, RUN_ORDER)).toEqual([]);
    // Part of a step-2 plan was reverted by someone else: the rest is still the newest, so it runs.
    expect(confirmRollback(['a/002', 'a/001'], reverted, RUN_ORDER)).toEqual(['a/001']);
    const onTop = [...base, rec('a/003', 'applied', 'up', { applied: 4 })];
    expect(() => confirmRollback(['a/002'], onTop, RUN_ORDER)).toThrow(TargetChangedError);
    const partial = [...base, rec('a/003', 'applying', 'up', { started: 4 })];
    expect(() => confirmRollback(['a/002'], partial, RUN_ORDER)).toThrow(PartialMigrationError);
  });
});
