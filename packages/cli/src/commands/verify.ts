import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { renderVerify } from '../render.js';
import { withMigrator } from '../with-migrator.js';

export const verifyCommand = defineCommand({
  command: 'verify',
  describe: 'Check that applied migrations still match their files (checksums)',
  builder: (y) => y,
  run: (args, io, where) =>
    withMigrator(args, io, async ({ migrator }) => {
      const report = await migrator.verify();
      return { exitCode: report.ok ? ExitCode.success : ExitCode.drift, json: report, text: renderVerify(report, where) };
    }),
});
