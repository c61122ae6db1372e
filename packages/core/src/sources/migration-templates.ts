import { readFile } from 'node:fs/promises';
import { InvalidOptionError } from '../errors.js';

/** File extensions `create` can write. `.js` is written as an ES module (the folder's package.json decides how Node loads it). */
export const MigrationFileExtension = { ts: 'ts', js: 'js', mjs: 'mjs', cjs: 'cjs' } as const;
export type MigrationFileExtension = (typeof MigrationFileExtension)[keyof typeof MigrationFileExtension];

/** Built-in templates: `basic` (empty up/down) and `data` (a reversible data change with the toolkit). */
export const BuiltInTemplate = { basic: 'basic', data: 'data' } as const;
export type BuiltInTemplate = (typeof BuiltInTemplate)[keyof typeof BuiltInTemplate];

/** Turns a migration name and extension into a file body. */
export type MigrationTemplate = (name: string, ext: MigrationFileExtension) => string;

const description = (name: string) => name.replace(/_/g, ' ');

/** The built-in `basic` template: an empty `up` and `down`, written for `ext` (typed for `ts`, `exports.` for `cjs`). */
export function basicTemplate(name: string, ext: MigrationFileExtension): string {
  const ts = ext === 'ts';
  const head =
    ext === 'cjs'
      ? `'use strict';\n\nexports.description = '${description(name)}';\n`
      : `${ts ? "import type { MigrationContext, MigrationCounts } from '@mongrate/core';\n\n" : ''}export const description = '${description(name)}';\n`;
  const fn = (verb: 'up' | 'down', doc: string) =>
    ext === 'cjs'
      ? `/** ${doc} */\nexports.${verb} = async function ${verb}(ctx) {\n  void ctx;\n  return {};\n};\n`
      : `/** ${doc} */\nexport async function ${verb}(ctx${ts ? ': MigrationContext' : ''})${ts ? ': Promise<MigrationCounts>' : ''} {\n  void ctx;\n  return {};\n}\n`;
  return `${head}
${fn('up', 'Applies the change. Return counts (they are stored with the run). For a reversible data change, start from `migrate create <name> --template data`.')}
${fn('down', 'Reverts `up`.')}`;
}

function data(name: string, ext: MigrationFileExtension): string {
  const ts = ext === 'ts';
  const imports =
    ext === 'cjs'
      ? "'use strict';\n\nconst { backupAndUpdate, restoreBackups } = require('@mongrate/core');\n"
      : `import { backupAndUpdate, restoreBackups${ts ? ', type MigrationContext, type MigrationCounts' : ''} } from '@mongrate/core';\n`;
  const exp = (what: string) => (ext === 'cjs' ? `exports.${what} = ` : `export const ${what} = `);
  const ctx = ts ? 'ctx: MigrationContext' : 'ctx';
  const ret = ts ? ': Promise<MigrationCounts>' : '';
  return `${imports}
${exp('description')}'${description(name)}';

// The documents to change and how: edit these. Only \`FIELDS\` are backed up; \`set\` may only touch them.
const COLLECTION = 'orders';
const FILTER = { status: 'legacy' };
const FIELDS = ['status', 'migratedAt'];

/**
 * Backs up FIELDS of every document matching FILTER, then sets them, in batches of \`ctx.batchSize\`, with a checkpoint
 * after each batch (an interrupted run resumes) and the lease checked before each write.
 */
${exp('up')}async function up(${ctx})${ret} {
  const result = await backupAndUpdate(ctx, {
    collection: COLLECTION,
    filter: FILTER,
    fields: FIELDS,
    // Values stable across resumes: runAt is the first attempt's time.
    set: { status: 'current', migratedAt: ctx.migration.runAt },
  });
  return { updated: result.updated, skipped: result.skipped, remaining: result.remaining, docsPerSecond: result.docsPerSecond };
}${ext === 'cjs' ? ';' : ''}

/** Puts back the backed-up values; documents changed since are left alone and counted as conflicts. */
${exp('down')}async function down(${ctx})${ret} {
  const result = await restoreBackups(ctx, { collection: COLLECTION });
  return { restored: result.restored, alreadyRestored: result.alreadyRestored, conflicts: result.conflicts };
}${ext === 'cjs' ? ';' : ''}
`;
}

const BUILT_IN: Record<BuiltInTemplate, MigrationTemplate> = { basic: basicTemplate, data };

/**
 * The template named `spec`: `basic`, `data`, or the path of a file whose text is used with `{{name}}` and
 * `{{description}}` replaced. Default `basic`.
 */
export async function migrationTemplate(spec: string = BuiltInTemplate.basic): Promise<MigrationTemplate> {
  const builtIn = BUILT_IN[spec as BuiltInTemplate] as MigrationTemplate | undefined;
  if (builtIn) return builtIn;
  let text: string;
  try {
    text = await readFile(spec, 'utf8');
  } catch (error) {
    throw new InvalidOptionError(`Template ${spec} is neither a built-in template (${Object.keys(BUILT_IN).join(', ')}) nor a readable file: ${(error as Error).message}`, { cause: error });
  }
  return (name) => text.replaceAll('{{name}}', name).replaceAll('{{description}}', description(name));
}
