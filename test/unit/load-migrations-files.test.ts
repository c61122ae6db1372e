import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { MigrationLoadError, folderSource, listMigrationFiles, loadMigrations } from '@mongrate/core';

const ESM = 'export async function up() { return { ok: 1 }; }\nexport async function down() { return { ok: 1 }; }\n';
const CJS = 'module.exports = { up: async () => ({ ok: 1 }), down: async () => ({ ok: 1 }) };\n';

/** The loader loads what users expect (symlinks, .cjs, .mjs) and rejects the rest loudly (issue 15). */
describe('migration files: what the loader accepts', () => {
  let dir: string;
  let elsewhere: string;
  beforeEach(async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'mongrate-files-'));
    dir = path.join(root, 'm');
    elsewhere = path.join(root, 'shared');
    await mkdir(dir);
    await mkdir(elsewhere);
  });
  afterEach(async () => {
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  it('loads a symlinked migration, a .cjs and a .mjs one, in number order', async () => {
    await writeFile(path.join(dir, '001_plain.ts'), ESM);
    await writeFile(path.join(dir, '002_x.cjs'), CJS);
    await writeFile(path.join(elsewhere, 'real.ts'), ESM);
    await symlink(path.join(elsewhere, 'real.ts'), path.join(dir, '003_linked.ts'));
    await writeFile(path.join(dir, '004_y.mjs'), ESM);
    const source = folderSource(dir, { namespace: 'x' });
    expect((await listMigrationFiles(source)).map((f) => f.file)).toEqual(['001_plain.ts', '002_x.cjs', '003_linked.ts', '004_y.mjs']);
    const loaded = await loadMigrations([source]);
    expect(loaded.map((m) => m.id)).toEqual(['x/001_plain', 'x/002_x', 'x/003_linked', 'x/004_y']);
    expect(loaded.every((m) => typeof m.module.up === 'function' && typeof m.module.down === 'function')).toBe(true);
    // The checksum is of the file the link points to.
    expect(loaded[2]?.checksum).toBe(loaded[0]?.checksum);
  });

  it.each([
    ['004_x.TS', /004_x\.TS.*extension must be lower-case \(\.ts\)/],
    ['004_x.Js', /004_x\.Js.*extension must be lower-case \(\.js\)/],
  ])('rejects %s loudly', async (file, message) => {
    await writeFile(path.join(dir, '001_ok.ts'), ESM);
    await writeFile(path.join(dir, file), ESM);
    const error = await listMigrationFiles(folderSource(dir)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationLoadError);
    expect((error as Error).message).toMatch(message);
  });

  it('rejects a dangling symlink and a linked folder, naming them', async () => {
    await symlink(path.join(elsewhere, 'gone.ts'), path.join(dir, '001_gone.ts'));
    await expect(listMigrationFiles(folderSource(dir))).rejects.toThrow(/001_gone\.ts is a symbolic link to nothing/);
    await rm(path.join(dir, '001_gone.ts'));
    await mkdir(path.join(elsewhere, 'folder.ts'));
    await symlink(path.join(elsewhere, 'folder.ts'), path.join(dir, '001_dir.ts'));
    await expect(listMigrationFiles(folderSource(dir))).rejects.toThrow(/001_dir\.ts is not a file/);
  });

  it('rejects a .cjs and a .ts migration with one number', async () => {
    await writeFile(path.join(dir, '002_x.cjs'), CJS);
    await writeFile(path.join(dir, '002_x.ts'), ESM);
    await expect(listMigrationFiles(folderSource(dir))).rejects.toThrow(/Duplicate migration number 002/);
  });
});
