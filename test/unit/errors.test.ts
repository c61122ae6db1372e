import { describe, expect, it } from '@jest/globals';
import {
  ChecksumDriftError,
  InterruptedError,
  LockLostError,
  MigrateError,
  MigrateErrorCode,
  MigrationAlreadyAppliedError,
  MigrationFailedError,
  MigrationLockedError,
  MigrationNotAppliedError,
  MigrationNotFoundError,
  DatabaseNotReadyError,
  findMigrateError,
  rootMigrateError,
} from '@mongrate/core';
import { ExitCode, reportError } from '@mongrate/cli';

describe('errors', () => {
  it('carry a stable code, their class name, and a message that says what to do', () => {
    const locked = new MigrationLockedError({ runId: 'r', host: 'web-3', pid: 77 }, 'Waited 300 s for it.');
    expect(locked).toBeInstanceOf(MigrateError);
    expect(locked.name).toBe('MigrationLockedError');
    expect(locked.code).toBe(MigrateErrorCode.MigrationLocked);
    // Messages speak of API calls and options; the command lines they suggest are structured remedies the CLI renders.
    expect(locked.message).toMatch(/host web-3, pid 77.*`unlock`/);
    expect(locked.remedies).toEqual([expect.objectContaining({ call: 'unlock' }), expect.objectContaining({ call: 'unlock', options: { force: true } })]);
    const applied = new MigrationAlreadyAppliedError('ns/004_x');
    expect(applied.message).toMatch(/roll it back first \(`down` with `to: "ns\/004_x"`\)/);
    expect(applied.remedies).toEqual([{ call: 'down', options: { to: 'ns/004_x' } }, { call: 'up', options: { migration: 'ns/004_x' } }]);
    const drift = new ChecksumDriftError([{ id: 'a', kind: 'changed', recordedChecksum: 'x' }]);
    expect(drift.message).toMatch(/a \(changed\).*option `allowDrift` overrides/);
    expect(drift.remedies).toContainEqual(expect.objectContaining({ options: { allowDrift: true } }));
  });

  it('no core message cites a command line; every error carries its remedies (possibly none)', () => {
    const errors: MigrateError[] = [
      new MigrationLockedError({ runId: 'r', host: 'h', pid: 1 }, 'Waited 1 s for it.'),
      new MigrationAlreadyAppliedError('ns/004_x'),
      new ChecksumDriftError([{ id: 'a', kind: 'changed', recordedChecksum: 'x' }]),
      new MigrationNotAppliedError(undefined),
      new MigrationNotAppliedError('ns/004_x'),
      new MigrationNotFoundError('x', ['ns/001_a']),
      new DatabaseNotReadyError('connect ECONNREFUSED'),
      new MigrationFailedError('ns/004_x', 'up', new Error('boom')),
      new LockLostError('lease expired'),
      new InterruptedError(),
    ];
    for (const error of errors) {
      expect(error.message).not.toMatch(/`migrate |--[a-z]|MONGODB_URI/);
      expect(Array.isArray(error.remedies)).toBe(true);
    }
    expect(new DatabaseNotReadyError('x').remedies).toEqual([expect.objectContaining({ options: { uri: true } })]);
    expect(new MigrationFailedError('ns/004_x', 'down', new Error('boom')).remedies).toEqual([expect.objectContaining({ call: 'down' })]);
  });

  it('one cause walker: the first error with a code, and the deepest', () => {
    const root = new InterruptedError();
    const failed = new MigrationFailedError('ns/004_x', 'up', new Error('wrapped', { cause: root }));
    expect(findMigrateError(failed, MigrateErrorCode.Interrupted)).toBe(root);
    expect(rootMigrateError(failed)).toBe(root);
    expect(rootMigrateError(new Error('plain'))).toBeUndefined();
  });

  it('a failed migration names itself and its direction and keeps the cause', () => {
    const cause = new LockLostError('lease expired');
    const failed = new MigrationFailedError('ns/004_x', 'down', cause);
    expect(failed.message).toMatch(/^Migration ns\/004_x \(down\) failed: The migration lock was lost/);
    expect(failed.cause).toBe(cause);
    expect(findMigrateError(failed, MigrateErrorCode.LockLost)).toBe(cause);
    expect(findMigrateError(failed, MigrateErrorCode.Interrupted)).toBeUndefined();
  });

  it.each([
    [new MigrationFailedError('x', 'up', new InterruptedError()), ExitCode.interrupted],
    [new MigrationFailedError('x', 'up', new Error('boom')), ExitCode.failed],
    [new MigrationLockedError(undefined, ''), ExitCode.locked],
    [new ChecksumDriftError([]), ExitCode.drift],
    [new MigrationAlreadyAppliedError('x'), ExitCode.badInput],
    [new Error('mongodb://u:pw@h'), ExitCode.failed],
  ])('the CLI maps %p to its exit code, with credentials redacted', (error, code) => {
    const report = reportError(error);
    expect(report.exitCode).toBe(code);
    expect(report.message).not.toContain(':pw@');
  });
});
