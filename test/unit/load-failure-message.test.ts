import { describe, expect, it } from '@jest/globals';
import { MigrationLoadError } from '@mongrate/core';
import { reportError } from '@mongrate/cli';
// Not part of the public API: the message the loader builds from an import() failure.
import { describeLoadFailure } from '../../packages/core/src/sources/load-migrations.js';

describe('a migration that fails to import', () => {
  it('a .ts file where Node has no TypeScript loader: names the file and the remedy', () => {
    const file = '/srv/app/migrations/001_a.ts';
    const nodeError = Object.assign(new TypeError(`Unknown file extension ".ts" for ${file}`), { code: 'ERR_UNKNOWN_FILE_EXTENSION' });
    const error = describeLoadFailure(file, '001_a.ts', nodeError);
    expect(error).toBeInstanceOf(MigrationLoadError);
    expect(error.cause).toBe(nodeError);
    expect(error.message).toMatch(/Migration \/srv\/app\/migrations\/001_a\.ts is TypeScript, and this Node\.js process has no TypeScript loader/);
    expect(error.message).toMatch(/npm i -D tsx.*node --import tsx.*or compile it to \.js/);
    expect(error.message).not.toMatch(/\.\.(\s|$)/);
    // The CLI registers tsx by itself: there, installing it is the whole remedy.
    expect(reportError(error).message).toContain('On the command line: installing tsx where the app or the migrations folder resolves it is enough');
    expect(reportError(new MigrationLoadError('other', '001_a.ts')).message).not.toContain('tsx');
    // Other failures keep their own message, with one full stop.
    expect(describeLoadFailure(file, '001_a.ts', new SyntaxError('Unexpected token.')).message).toMatch(/failed to load: Unexpected token\. Fix the file; nothing has run\.$/);
  });
});
