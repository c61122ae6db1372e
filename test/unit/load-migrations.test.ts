import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { MigrationLoadError, createMigrationFile, folderSource, listMigrationFiles, loadMigrations, toMigrationName, InvalidOptionError } from '@mongrate/core';
import { FIXTURES } from '../support/migrator.js';

describe('migration files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mongrate-unit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists NNN_name files in number order and ignores helpers, index and declaration files', async () => {
    for (const f of ['010_ten.ts', '002_two.js', 'index.ts', 'helpers.ts', '003_three.d.ts', '004_four.test.ts']) await writeFile(path.join(dir, f), '');
    const files = await listMigrationFiles(folderSource(dir, { namespace: 'x' }));
    expect(files.map((f) => f.file)).toEqual(['002_two.js', '010_ten.ts']);
    expect(files.map((f) => f.number)).toEqual([2, 10]);
  });

  it.each([
    ['001_a.ts', '001_b.ts', /Duplicate migration number 001 .*: 001_a\.ts and 001_b\.ts\. .* next free number, 002 \(for example, rename 001_b\.ts to 002_b\.ts\)/],
    ['001_a.ts', '001_a.js', /Duplicate migration number 001 .* rename 001_a\.ts to 002_a\.ts/],
    ['002-Bad.ts', '003_ok.ts', /misnamed: use NNN_snake_case_name\.ts/],
  ])('rejects %s beside %s', async (a, b, message) => {
    await writeFile(path.join(dir, a), '');
    await writeFile(path.join(dir, b), '');
    await expect(listMigrationFiles(folderSource(dir))).rejects.toThrow(message);
  });

  it('loads modules, checksums them, and namespaces their ids', async () => {
    const [first] = await loadMigrations([folderSource(path.join(FIXTURES, 'basic'))]);
    expect(first?.id).toBe('basic/001_create_users');
    expect(first?.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof first?.module.up).toBe('function');
  });

  it.each([
    ['no-down', /must export functions `up` and `down`/],
    ['broken', /failed to load: [\s\S]*nothing has run/i],
  ])('rejects the %s fixture with MigrationLoadError', async (fixture, message) => {
    const error = await loadMigrations([folderSource(path.join(FIXTURES, fixture))]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationLoadError);
    expect((error as Error).message).toMatch(message);
  });

  it('rejects two sources with one namespace', async () => {
    await expect(loadMigrations([folderSource(path.join(FIXTURES, 'basic')), folderSource(path.join(FIXTURES, 'failing'), { namespace: 'basic' })])).rejects.toThrow(
      /share the namespace "basic"/,
    );
  });

  it('takes the namespace from a plugin package.json, else the folder name', async () => {
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: '@acme/m', version: '2.1.0', mongrate: { namespace: 'acme' } }));
    expect(folderSource(dir)).toMatchObject({ namespace: 'acme', version: '2.1.0' });
    expect(folderSource(path.join(FIXTURES, 'basic')).namespace).toBe('basic');
    expect(() => folderSource(path.join(dir, 'missing'))).toThrow(InvalidOptionError);
  });

  it('create writes the next number from the template and never overwrites', async () => {
    await writeFile(path.join(dir, '0007_seven.ts'), '');
    const file = await createMigrationFile(folderSource(dir, { namespace: 'x' }), 'Add wallet-index!');
    expect(path.basename(file)).toBe('0008_add_wallet_index.ts');
    const body = await readFile(file, 'utf8');
    expect(body).toContain('export async function up(ctx: MigrationContext)');
    expect(body).toContain('export async function down(ctx: MigrationContext)');
    expect(toMigrationName('  Fix: Melted TOKENS ')).toBe('fix_melted_tokens');
    expect(() => toMigrationName('!!!')).toThrow(/must contain letters/);
    expect(() => toMigrationName('9lives')).toThrow(/not start with a digit/);
  });

  it('a folder without migrations gets what its package can load: ts under a tsconfig.json, js in an ES module package, else mjs; the body fits the extension', async () => {
    const app = async (name: string, files: Record<string, string>) => {
      const root = path.join(dir, name);
      await mkdir(path.join(root, 'migrations'), { recursive: true });
      for (const [file, text] of Object.entries(files)) await writeFile(path.join(root, file), text);
      return createMigrationFile(folderSource(path.join(root, 'migrations')), 'first');
    };
    expect(path.basename(await app('typed', { 'package.json': '{}', 'tsconfig.json': '{}' }))).toBe('001_first.ts');
    const esm = await app('esm', { 'package.json': '{"type":"module"}' });
    expect(path.basename(esm)).toBe('001_first.js');
    // Plain JavaScript: no type import, which Node could not parse.
    expect(await readFile(esm, 'utf8')).not.toContain('import type');
    expect(path.basename(await app('commonjs', { 'package.json': '{"name":"x"}' }))).toBe('001_first.mjs');
    // The package root bounds the search: a tsconfig.json above it belongs to something else.
    await writeFile(path.join(dir, 'tsconfig.json'), '{}');
    expect(path.basename(await app('nested', { 'package.json': '{}' }))).toBe('001_first.mjs');
    const explicit = await createMigrationFile(folderSource(path.join(dir, 'nested', 'migrations')), 'second', { ext: 'cjs' });
    expect(await readFile(explicit, 'utf8')).toContain('exports.up = async function up(ctx)');
  });
});
