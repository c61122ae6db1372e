import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidOptionError } from '../errors.js';
import { listMigrationFiles } from './load-migrations.js';
import type { MigrationSource } from './migration-source.js';
import { MigrationFileExtension } from './migration-templates.js';

/** `.mts`/`.cts` count as `ts`; no file yet: `ts`. */
function extensionOf(file: string | undefined): MigrationFileExtension {
  const ext = file ? path.extname(file).slice(1) : 'ts';
  return ext === 'js' || ext === 'mjs' || ext === 'cjs' ? ext : MigrationFileExtension.ts;
}

/** The body of a new migration file. */
export function defaultMigrationTemplate(name: string): string {
  return `import type { MigrationContext, MigrationCounts } from '@mongrate/core';

export const description = '${name.replace(/_/g, ' ')}';

/**
 * Applies the change. Return counts (they are stored with the run). For data changes that must be reversible,
 * use \`backupAndUpdate(ctx, { collection, filter, fields, set })\` here and \`restoreBackups\` in \`down\`.
 */
export async function up(ctx: MigrationContext): Promise<MigrationCounts> {
  void ctx;
  return {};
}

/** Reverts \`up\`. */
export async function down(ctx: MigrationContext): Promise<MigrationCounts> {
  void ctx;
  return {};
}
`;
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

/** Writes `NNN_name.ts` with the next free number into a folder source; never overwrites. Returns its path. */
export async function createMigrationFile(
  source: MigrationSource,
  rawName: string,
  options: {
    readonly template?: (name: string, ext: MigrationFileExtension) => string;
    /** Default: the extension of the folder's last migration, else `ts`. */
    readonly ext?: MigrationFileExtension;
  } = {},
): Promise<string> {
  const name = toMigrationName(rawName);
  const existing = await listMigrationFiles(source);
  const last = existing.at(-1);
  const width = Math.max(3, last ? (last.name.split('_')[0] ?? '').length : 3);
  const number = String((last?.number ?? 0) + 1).padStart(width, '0');
  const ext = options.ext ?? extensionOf(last?.file);
  if (!Object.values(MigrationFileExtension).includes(ext)) {
    throw new InvalidOptionError(`Migration file extension must be one of ${Object.values(MigrationFileExtension).join(', ')} (got ${JSON.stringify(ext)}).`);
  }
  const file = path.join(source.directory, `${number}_${name}.${ext}`);
  await writeFile(file, options.template ? options.template(name, ext) : defaultMigrationTemplate(name), { flag: 'wx' });
  return file;
}
