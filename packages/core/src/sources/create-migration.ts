import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidOptionError } from '../errors.js';
import { listMigrationFiles } from './load-migrations.js';
import type { MigrationSource } from './migration-source.js';
import { MigrationFileExtension, basicTemplate } from './migration-templates.js';

/** `.mts`/`.cts` count as `ts`. */
function extensionOf(file: string): MigrationFileExtension {
  const ext = path.extname(file).slice(1);
  return ext === 'js' || ext === 'mjs' || ext === 'cjs' ? ext : MigrationFileExtension.ts;
}

/**
 * For a folder without migrations, what its package can load: `ts` where a tsconfig.json sits in the folder or above
 * it up to the package's root (the nearest package.json), else `js` in a package of `"type": "module"`, else `mjs` (an
 * ES module wherever it sits). A JavaScript app never gets a file it cannot load without a TypeScript loader.
 */
function extensionForNewFolder(directory: string): MigrationFileExtension {
  for (let dir = directory; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'tsconfig.json'))) return MigrationFileExtension.ts;
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) return packageType(pkg) === 'module' ? MigrationFileExtension.js : MigrationFileExtension.mjs;
    if (path.dirname(dir) === dir) return MigrationFileExtension.mjs;
  }
}

function packageType(file: string): unknown {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { type?: unknown }).type;
  } catch {
    return undefined;
  }
}

/** The body of a new TypeScript migration file (the built-in `basic` template for `ts`). */
export function defaultMigrationTemplate(name: string): string {
  return basicTemplate(name, MigrationFileExtension.ts);
}

/** `Fix wallet-units!` → `fix_wallet_units`. */
export function toMigrationName(raw: string): string {
  const name = raw
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!name || /^\d/.test(name)) {
    throw new InvalidOptionError(`Migration name "${raw}" must contain letters and not start with a digit, for example "add wallet index".`);
  }
  return name;
}

/** Writes `NNN_name.<ext>` with the next free number into a folder source; never overwrites. Returns its path. */
export async function createMigrationFile(
  source: MigrationSource,
  rawName: string,
  options: {
    readonly template?: (name: string, ext: MigrationFileExtension) => string;
    /** Default: the extension of the folder's last migration; in a folder without one, `ts` under a tsconfig.json, else `js` in an ES module package, else `mjs`. */
    readonly ext?: MigrationFileExtension;
  } = {},
): Promise<string> {
  const name = toMigrationName(rawName);
  const existing = await listMigrationFiles(source);
  const last = existing.at(-1);
  const width = Math.max(3, last ? (last.name.split('_')[0] ?? '').length : 3);
  const number = String((last?.number ?? 0) + 1).padStart(width, '0');
  const ext = options.ext ?? (last ? extensionOf(last.file) : extensionForNewFolder(source.directory));
  if (!Object.values(MigrationFileExtension).includes(ext)) {
    throw new InvalidOptionError(`Migration file extension must be one of ${Object.values(MigrationFileExtension).join(', ')} (got ${JSON.stringify(ext)}).`);
  }
  const file = path.join(source.directory, `${number}_${name}.${ext}`);
  await writeFile(file, (options.template ?? basicTemplate)(name, ext), { flag: 'wx' });
  return file;
}
