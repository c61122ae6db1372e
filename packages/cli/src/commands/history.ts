import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { idPositional, wholeNumber } from '../options.js';
import { renderHistory } from '../render.js';
import { withMigrator } from '../with-migrator.js';

export const historyCommand = defineCommand({
  command: 'history [id]',
  describe: 'List finished runs, rollbacks, baselines and repairs, newest first',
  builder: (y) => idPositional('Only this migration')(y).option('limit', { type: 'string', default: '50', coerce: wholeNumber('--limit', 'a positive whole number', 1) }),
  run: (args, io) =>
    withMigrator(args, io, async ({ migrator }) => {
      const entries = await migrator.history({ ...(args.id ? { migration: args.id } : {}), limit: args.limit });
      return { exitCode: ExitCode.success, json: entries, text: renderHistory(entries) };
    }),
});
