import { InvalidOptionError, MigrationFileExtension, createMigrationFile, migrationTemplate } from '@mongrate/core';
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
      .option('ext', { type: 'string', choices: Object.values(MigrationFileExtension), describe: 'File type (default: what the folder already holds, else ts)' })
      .option('template', { type: 'string', describe: 'basic (default), data (a reversible data change with the toolkit), or a file with {{name}}/{{description}}' }),
  run: async (args, io) => {
    const { settings } = await resolveSettings(args, io);
    const [source, ...rest] = resolveSources(settings.migrations, io.cwd);
    if (!source || rest.length > 0) throw new InvalidOptionError('create writes into one migrations folder: pass exactly one --migrations.');
    const ext = Object.values(MigrationFileExtension).find((e) => e === args.ext);
    const template = await migrationTemplate(args.template ?? settings.template);
    const file = await createMigrationFile(source, args.name, { template, ...(ext ? { ext } : {}) });
    return { exitCode: ExitCode.success, json: { file }, text: `Created ${file}` };
  },
});
