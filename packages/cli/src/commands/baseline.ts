import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { withMigrator } from '../with-migrator.js';

export const baselineCommand = defineCommand({
  command: 'baseline <id>',
  describe: 'Mark every migration up to <id> as applied without running it (adopting a database that already has the changes)',
  builder: (y) =>
    y
      .positional('id', { type: 'string', demandOption: true, describe: 'The last migration the database already reflects' })
      .option('reason', { type: 'string', describe: 'Why, recorded in history' }),
  run: (args, io) =>
    withMigrator(args, io, async ({ migrator }) => {
      const result = await migrator.baseline(args.id, { ...(args.reason ? { reason: args.reason } : {}) });
      const lines = [
        result.baselined.length ? `Baselined (marked applied without running): ${result.baselined.join(', ')}.` : 'Nothing to baseline.',
        ...(result.alreadyApplied.length ? [`Already applied, left as they were: ${result.alreadyApplied.join(', ')}.`] : []),
      ];
      return { exitCode: ExitCode.success, json: result, text: lines.join('\n') };
    }),
});
