import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { withMigrator } from '../with-migrator.js';

export const unlockCommand = defineCommand({
  command: 'unlock',
  describe: 'Remove an expired lock; --force removes a live one (only if its process is gone)',
  builder: (y) => y.option('force', { type: 'boolean', default: false }),
  run: (args, io) =>
    withMigrator(args, io, async ({ migrator }) => {
      const result = await migrator.unlock({ force: args.force });
      const text = result.removed ? `Removed the ${result.expired ? 'expired' : 'live'} lock of host ${result.holder?.host}, pid ${result.holder?.pid}.` : 'No lock is held.';
      return { exitCode: result.removed ? ExitCode.success : ExitCode.nothingToDo, json: result, text };
    }),
});
