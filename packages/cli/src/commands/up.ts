import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { interruptible } from '../interrupt.js';
import { idPositional, rangeOptions } from '../options.js';
import { renderRun } from '../render.js';
import { summaries } from '../render-run.js';
import { withMigrator } from '../with-migrator.js';
import { withProgress } from './with-progress.js';

export const upCommand = defineCommand({
  command: 'up [id]',
  describe: 'Apply pending migrations: all, up to --to, --step of them, or one named',
  builder: (y) =>
    rangeOptions('Apply')(idPositional('Apply only this migration')(y))
      .option('allow-drift', { type: 'boolean', default: false, describe: 'Run even if applied migrations changed' })
      .option('allow-out-of-order', { type: 'boolean', describe: 'Apply a pending migration that sorts before an applied one (recorded in history)' }),
  run: (args, io) =>
    withMigrator(args, io, async ({ migrator, logger }) => {
      const result = await interruptible(io, logger, (signal) =>
        withProgress(migrator, io, logger, () =>
          migrator.up({
            ...(args.id ? { migration: args.id } : {}),
            ...(args.to ? { to: args.to } : {}),
            ...(args.step !== undefined ? { step: args.step } : {}),
            allowDrift: args['allow-drift'],
            ...(args['allow-out-of-order'] !== undefined ? { allowOutOfOrder: args['allow-out-of-order'] } : {}),
            signal,
          }),
        ),
      );
      // Nothing pending, or another process applied it while this one waited: the database is where the deploy wants it.
      return { exitCode: ExitCode.success, json: result, text: renderRun(result, await summaries(migrator, result)) };
    }),
});
