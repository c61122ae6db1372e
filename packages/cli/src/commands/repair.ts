import { InvalidOptionError, RepairResolution } from '@mongrate/core';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { commandLine } from '../remedy.js';
import { withMigrator } from '../with-migrator.js';

export const repairCommand = defineCommand({
  command: 'repair [id]',
  describe: 'Accept the current checksums of applied migrations after a reviewed edit, or --resolve a failed one as applied or pending; runs nothing',
  builder: (y) =>
    y
      .positional('id', { type: 'string', describe: 'Only this migration (required with --resolve)' })
      .option('reason', { type: 'string', describe: 'Why (required): recorded in history with who did it' })
      .option('resolve', { type: 'string', choices: Object.values(RepairResolution), describe: 'Mark <id> applied (its data is complete) or pending (its data is gone), without running it' })
      .option('source-removed', { type: 'boolean', default: false, describe: 'With --resolve pending of a migration no loaded source has: its source was removed for good' }),
  run: (args, io, where) =>
    withMigrator(args, io, async ({ migrator }) => {
      if (!args.reason?.trim()) throw new InvalidOptionError('repair needs --reason "<why>": it is recorded in history with who did it. Nothing was changed.');
      if (args.resolve && !args.id) throw new InvalidOptionError('--resolve needs the migration: `migrate repair <id> --resolve applied|pending --reason "..."`. Nothing was changed.');
      const resolve = Object.values(RepairResolution).find((r) => r === args.resolve);
      const result = await migrator.repair({ reason: args.reason, ...(args.id ? { migration: args.id } : {}), ...(resolve ? { resolve } : {}), ...(args['source-removed'] ? { sourceRemoved: true } : {}) });
      const cmd = (command: string) => commandLine(command, where);
      const lines = result.resolved
        ? [
            `Resolved ${result.resolved.id}: ${result.resolved.from} → ${result.resolved.to}. Nothing ran.`,
            result.resolved.to === 'applied'
              ? `It counts as applied from now on: ${cmd(`down ${result.resolved.id}`)} runs its down.`
              : `It counts as pending from now on: the next ${cmd('up')} that loads its file runs it. Backups an earlier run left stay in place (${cmd('verify')} counts them).`,
          ]
        : [
            result.checksums.length
              ? `Accepted the current checksum of ${result.checksums.map((c) => `${c.id} (${c.from.slice(0, 12)} → ${c.to.slice(0, 12)})`).join(', ')}.`
              : result.missing.length
                ? 'No checksum to repair: every applied migration whose file is loaded matches it.'
                : 'No checksum to repair: every applied migration matches its file.',
            ...(result.missing.length ? [`Files missing (not repaired; restore them, or ${cmd('repair <id> --resolve pending --reason …')}): ${result.missing.join(', ')}.`] : []),
          ];
      return { exitCode: ExitCode.success, json: result, text: lines.join('\n') };
    }),
});
