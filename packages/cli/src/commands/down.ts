import { InvalidOptionError } from '@mongrate/core';
import { defineCommand } from '../command.js';
import { confirm } from '../confirm.js';
import { ExitCode } from '../exit-codes.js';
import { interruptible } from '../interrupt.js';
import { idPositional, rangeOptions } from '../options.js';
import { renderRun } from '../render.js';
import { summaries } from '../render-run.js';
import { withMigrator } from '../with-migrator.js';
import { withProgress } from './with-progress.js';

export const downCommand = defineCommand({
  command: 'down [id]',
  describe: 'Roll back the last applied migration, down to --to (0: all), --step of them, or one named (also a partial run)',
  builder: (y) => rangeOptions('Roll back')(idPositional('Roll back only this migration')(y)),
  run: (args, io) =>
    withMigrator(args, io, async ({ migrator, logger }) => {
      const options = {
        ...(args.id ? { migration: args.id } : {}),
        ...(args.to !== undefined ? { to: args.to === '0' ? (0 as const) : args.to } : {}),
        ...(args.step !== undefined ? { step: args.step } : {}),
      };
      let expect: string[] | undefined;
      if (!args.yes) {
        if (!io.interactive) throw new InvalidOptionError('`down` changes data: pass --yes to confirm when not running in a terminal.');
        // Confirm the exact migrations, newest first; the rollback then reverts those or nothing.
        expect = await migrator.downPlan(options);
        if (!(await confirm(io, `Roll back ${expect.join(', ')}?`))) return { exitCode: ExitCode.cancelled, json: { cancelled: true }, text: 'Cancelled: nothing was rolled back.' };
      }
      const result = await interruptible(io, logger, (signal) => withProgress(migrator, io, logger, () => migrator.down({ ...options, ...(expect ? { expect } : {}), signal })));
      // A rollback that found its targets already reverted by another process: the database is where it was meant to be.
      return { exitCode: ExitCode.success, json: result, text: renderRun(result, await summaries(migrator, result)) };
    }),
});
