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
  findMigrateError,
} from '@mongrate/core';
import { ExitCode, reportError } from '@mongrate/cli';

describe('errors', () => {
  it('carry a stable code, their class name, and a message that says what to do', () => {
    const locked = new MigrationLockedError({ runId: 'r', host: 'web-3', pid: 77 }, 'Waited 300 s for it.');
    expect(locked).toBeInstanceOf(MigrateError);
    expect(locked.name).toBe('MigrationLockedError');
    expect(locked.code).toBe(MigrateErrorCode.MigrationLocked);
    expect(locked.message).toMatch(/host web-3, pid 77.*migrate unlock/);
    expect(new MigrationAlreadyAppliedError('ns/004_x').message).toMatch(/roll it back first \(`migrate down --to ns\/004_x`\)/);
    expect(new ChecksumDriftError([{ id: 'a', kind: 'changed', recordedChecksum: 'x' }]).message).toMatch(/a \(changed\).*--allow-drift/);
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
