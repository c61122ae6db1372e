import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { InvalidOptionError, MigrationFileExtension, createMigrationFile, migrationTemplate, type MigrationSource } from '@mongrate/core';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { resolveSettings } from '../settings.js';
import { resolveSources } from '../with-migrator.js';

export const createCommand = defineCommand({
  command: 'create <name>',
  describe: 'Write the next numbered migration file from a template',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, describe: 'What it does, e.g. "add wallet index"' })
      .option('ext', { type: 'string', choices: Object.values(MigrationFileExtension), describe: 'File type (default: what the folder already holds; in an empty folder ts under a tsconfig.json, js in an ES module package, else mjs)' })
      .option('template', { type: 'string', describe: 'basic (default), data (a reversible data change with the toolkit), or a file with {{name}}/{{description}}' }),
  run: async (args, io) => {
    const { settings } = await resolveSettings(args, io);
    const [spec, ...rest] = settings.migrations;
    if (spec === undefined || rest.length > 0) throw new InvalidOptionError('create writes into one migrations folder: pass exactly one --migrations.');
    const ext = Object.values(MigrationFileExtension).find((e) => e === args.ext);
    const template = await migrationTemplate(args.template ?? settings.template);
    // The first migration of a new app: a folder named as a path is made (a bare name may be a plugin package).
    const folder = path.resolve(io.cwd, spec);
    const made = isPathLike(spec) && !existsSync(folder) ? await mkdir(folder, { recursive: true }) : undefined;
    const [source] = resolveSources([spec], io.cwd) as [MigrationSource];
    const file = await createMigrationFile(source, args.name, { template, ...(ext ? { ext } : {}) });
    return { exitCode: ExitCode.success, json: { file, ...(made ? { createdFolder: folder } : {}) }, text: `${made ? `Created folder ${folder}\n` : ''}Created ${file}` };
  },
});

/** `./migrations`, `db/migrations`, `/srv/m`: a folder. `migrations` or `@acme/plugin` may name an installed package. */
function isPathLike(spec: string): boolean {
  return spec.startsWith('.') || path.isAbsolute(spec) || (!spec.startsWith('@') && /[/\\]/.test(spec));
}
