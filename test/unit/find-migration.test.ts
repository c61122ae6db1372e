import { describe, expect, it } from '@jest/globals';
import { MigrationNotFoundError, findMigration } from '@mongrate/core';

const list = [
  { id: 'nctool/001_init', name: '001_init', number: 1, namespace: 'nctool' },
  { id: 'nctool/004_fix_melted_token_status', name: '004_fix_melted_token_status', number: 4, namespace: 'nctool' },
  { id: 'plugin/004_other', name: '004_other', number: 4, namespace: 'plugin' },
];

describe('findMigration', () => {
  it('finds by full id, by name, and by number within a namespace', () => {
    expect(findMigration('nctool/004_fix_melted_token_status', list).id).toBe('nctool/004_fix_melted_token_status');
    expect(findMigration('004_other', list).id).toBe('plugin/004_other');
    expect(findMigration('1', list).id).toBe('nctool/001_init');
    expect(findMigration('001', list).id).toBe('nctool/001_init');
    expect(findMigration('plugin/004', list).id).toBe('plugin/004_other');
  });

  it('says when a reference is ambiguous, listing the candidates', () => {
    expect(() => findMigration('004', list)).toThrow(/ambiguous: it matches nctool\/004_fix_melted_token_status, plugin\/004_other/);
  });

  it('says when nothing matches, listing what exists', () => {
    const error = (() => {
      try {
        findMigration('042', list);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MigrationNotFoundError);
    expect((error as Error).message).toContain('No migration matches "042". Known migrations: nctool/001_init');
    expect((error as MigrationNotFoundError).code).toBe('MIGRATION_NOT_FOUND');
  });
});
