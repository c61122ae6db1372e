import { describe, expect, it } from '@jest/globals';
import { MAX_DATABASE_NAME_BYTES, databaseInUri, databaseNameProblem } from '@mongrate/core';

describe('the database migrations run on', () => {
  it('a name MongoDB refuses, or one of its own databases, is a problem; an ordinary name is not', () => {
    expect(databaseNameProblem('nctool')).toBeUndefined();
    expect(databaseNameProblem('café')).toBeUndefined();
    expect(databaseNameProblem('x'.repeat(MAX_DATABASE_NAME_BYTES))).toBeUndefined();
    expect(databaseNameProblem('x'.repeat(MAX_DATABASE_NAME_BYTES + 1))).toBe('is 64 bytes long; MongoDB allows at most 63');
    expect(databaseNameProblem('')).toBe('is empty');
    expect(databaseNameProblem('a.b')).toMatch(/^has the character "\."/);
    expect(databaseNameProblem('a b')).toMatch(/^has the character " " \(a space\)/);
    for (const own of ['admin', 'local', 'config']) expect(databaseNameProblem(own)).toMatch(/is one of MongoDB's own databases/);
  });

  it("reads the connection string's path: '' when it names none, undefined when it does not parse", () => {
    expect(databaseInUri('mongodb://h:1/app?w=1')).toBe('app');
    expect(databaseInUri('mongodb://h:1/caf%C3%A9')).toBe('café');
    expect(databaseInUri('mongodb://h:1')).toBe('');
    expect(databaseInUri('mongodb://h:1/')).toBe('');
    expect(databaseInUri('not a uri')).toBeUndefined();
  });
});
