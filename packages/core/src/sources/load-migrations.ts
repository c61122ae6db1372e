import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { messageOf } from '../driver-errors.js';
import { MigrationLoadError, MigrationNotFoundError } from '../errors.js';
import type { MigrationModule } from '../migration.js';
import type { MigrationSource } from './migration-source.js';

/** A migration file, loaded and checked. */
export interface LoadedMigration {
  /** `namespace/NNN_name`: the key in storage. */
  readonly id: string;
  /** `NNN_name` */
  readonly name: string;
  readonly number: number;
  readonly namespace: string;
  readonly path: string;
  /** sha256 of the file's bytes. */
  readonly checksum: string;
  readonly source: MigrationSource;
  readonly module: MigrationModule;
}

/** `NNN_snake_name.ts` (or .mts, .cts, .js, .mjs, .cjs). */
export const MIGRATION_FILE_PATTERN = /^(\d+)_([a-z0-9]+(?:_[a-z0-9]+)*)\.([mc]?[jt]s)$/;
// Any script whose name starts with a digit is meant as a migration, so a misnamed one is an error, not skipped.
// Extensions are matched in any case so that `004_x.TS` is rejected rather than silently passed over.
const CANDIDATE = /^\d.*\.([mc]?[jt]s)$/i;
const NOT_A_MIGRATION = /(\.d\.[mc]?ts|\.test\.[mc]?[jt]s|\.spec\.[mc]?[jt]s)$/i;

/** One more than the highest number among `files`' migration names. */
function nextFreeNumber(files: readonly string[]): number {
  return Math.max(0, ...files.map((f) => Number(MIGRATION_FILE_PATTERN.exec(f)?.[1] ?? 0))) + 1;
}

/** Lists a source's migration files in order, rejecting bad names and duplicate numbers. Symbolic links are followed. */
export async function listMigrationFiles(source: MigrationSource): Promise<Array<{ file: string; name: string; number: number }>> {
  const entries = await readdir(source.directory, { withFileTypes: true });
  const files: string[] = [];
  for (const e of entries) {
    if (!CANDIDATE.test(e.name) || NOT_A_MIGRATION.test(e.name)) continue;
    if (e.isSymbolicLink()) {
      const target = await stat(path.join(source.directory, e.name)).catch(() => undefined);
      if (!target) {
        throw new MigrationLoadError(`Migration file ${path.join(source.directory, e.name)} is a symbolic link to nothing. Point it at an existing file, or remove it.`, e.name);
      }
      if (!target.isFile()) {
        throw new MigrationLoadError(`Migration file ${path.join(source.directory, e.name)} is not a file. Migrations are files named NNN_snake_case_name.ts.`, e.name);
      }
    } else if (!e.isFile()) {
      throw new MigrationLoadError(`Migration file ${path.join(source.directory, e.name)} is not a file. Migrations are files named NNN_snake_case_name.ts.`, e.name);
    }
    files.push(e.name);
  }
  files.sort();
  const byNumber = new Map<number, string>();
  const listed: Array<{ file: string; name: string; number: number }> = [];
  for (const file of files) {
    const extension = CANDIDATE.exec(file)?.[1] ?? '';
    if (extension !== extension.toLowerCase()) {
      throw new MigrationLoadError(
        `Migration file ${path.join(source.directory, file)}: its extension must be lower-case (.${extension.toLowerCase()}). Rename it to ${file.slice(0, -extension.length)}${extension.toLowerCase()}.`,
        file,
      );
    }
    const match = MIGRATION_FILE_PATTERN.exec(file);
    if (!match) {
      throw new MigrationLoadError(
        `Migration file ${path.join(source.directory, file)} is misnamed: use NNN_snake_case_name.ts (digits, an underscore, lower-case words joined by underscores).`,
        file,
      );
    }
    const [, digits = '', words = '', ext = ''] = match;
    const number = Number(digits);
    const previous = byNumber.get(number);
    if (previous) {
      const free = String(nextFreeNumber(files)).padStart(digits.length, '0');
      throw new MigrationLoadError(
        `Duplicate migration number ${digits} in ${source.directory}: ${previous} and ${file}. Renumber the one that has not run anywhere yet to the next free number, ${free} (for example, rename ${file} to ${free}_${words}.${ext}).`,
        file,
      );
    }
    byNumber.set(number, file);
    listed.push({ file, name: file.slice(0, -(extension.length + 1)), number });
  }
  return listed.sort((a, b) => a.number - b.number);
}

/** Loads every migration of every source with `import()`, before anything runs. */
export async function loadMigrations(sources: readonly MigrationSource[]): Promise<LoadedMigration[]> {
  const namespaces = new Map<string, string>();
  for (const source of sources) {
    const other = namespaces.get(source.namespace);
    if (other && other !== source.directory) {
      throw new MigrationLoadError(`Two migration sources share the namespace "${source.namespace}": ${other} and ${source.directory}. Give one a namespace of its own.`);
    }
    namespaces.set(source.namespace, source.directory);
  }
  const loaded: LoadedMigration[] = [];
  for (const source of sources) {
    if (loaded.some((m) => m.source.directory === source.directory)) continue;
    for (const { file, name, number } of await listMigrationFiles(source)) {
      const filePath = path.join(source.directory, file);
      const bytes = await readFile(filePath);
      let imported: Record<string, unknown>;
      try {
        imported = (await import(pathToFileURL(filePath).href)) as Record<string, unknown>;
      } catch (error) {
        throw describeLoadFailure(filePath, file, error);
      }
      const module = pickModule(imported);
      if (!module) {
        throw new MigrationLoadError(`Migration ${filePath} must export functions \`up\` and \`down\` (named exports, or a default export object with both). Nothing has run.`, file);
      }
      loaded.push({
        id: `${source.namespace}/${name}`,
        name,
        number,
        namespace: source.namespace,
        path: filePath,
        checksum: createHash('sha256').update(bytes).digest('hex'),
        source,
        module,
      });
    }
  }
  return loaded;
}

/** The error for a migration whose `import()` failed: a missing TypeScript loader gets its remedy. */
export function describeLoadFailure(filePath: string, file: string, error: unknown): MigrationLoadError {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[mc]?ts$/.test(filePath)) {
    return new MigrationLoadError(
      `Migration ${filePath} is TypeScript, and this Node.js process has no TypeScript loader. ` +
        'Install tsx (`npm i -D tsx`) and run with it (`node --import tsx ...`), or compile it to .js. Nothing has run.',
      file,
      { cause: error },
    );
  }
  const reason = messageOf(error).trim().replace(/\.+$/, '');
  return new MigrationLoadError(`Migration ${filePath} failed to load: ${reason}. Fix the file; nothing has run.`, file, { cause: error });
}

function pickModule(imported: Record<string, unknown>): MigrationModule | undefined {
  const candidates = [imported, imported.default as Record<string, unknown> | undefined];
  for (const c of candidates) {
    if (c && typeof c.up === 'function' && typeof c.down === 'function') return c as unknown as MigrationModule;
  }
  return undefined;
}

/** The namespace of a migration id (`ns/004_name` → `ns`); '' for an id without one. */
export function namespaceOfId(id: string): string {
  return id.slice(0, Math.max(0, id.lastIndexOf('/')));
}

/**
 * Finds a migration by full id (`ns/004_name`), name (`004_name`), number (`004` or `4`) or `ns/004`.
 * Throws `MigrationNotFoundError` when none or several match.
 */
export function findMigration<T extends { readonly id: string; readonly name: string; readonly number: number; readonly namespace: string }>(
  reference: string,
  migrations: readonly T[],
): T {
  const ref = reference.trim();
  const [ns, rest] = ref.includes('/') ? [ref.slice(0, ref.lastIndexOf('/')), ref.slice(ref.lastIndexOf('/') + 1)] : [undefined, ref];
  const inNamespace = ns === undefined ? migrations : migrations.filter((m) => m.namespace === ns);
  let matches = inNamespace.filter((m) => m.id === ref || m.name === rest);
  if (matches.length === 0 && /^\d+$/.test(rest)) matches = inNamespace.filter((m) => m.number === Number(rest));
  if (matches.length === 1 && matches[0]) return matches[0];
  throw new MigrationNotFoundError(reference, (matches.length > 1 ? matches : migrations).map((m) => m.id), matches.length > 1);
}
