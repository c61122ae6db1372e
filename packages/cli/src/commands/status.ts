import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { renderStatus, table } from '../render.js';
import { describeSettings } from '../settings.js';
import { withMigrator } from '../with-migrator.js';

export const statusCommand = defineCommand({
  command: 'status',
  describe: 'Show each migration with its state, when, duration and counts',
  builder: (y) =>
    y
      .option('fail-on-pending', { alias: 'check', type: 'boolean', default: false, describe: `Exit ${ExitCode.pending} when migrations are pending (for CI)` })
      .option('show-config', { type: 'boolean', default: false, describe: 'Also show each setting and where it came from (flag, env, config file, default)' }),
  run: (args, io, where) =>
    withMigrator(args, io, async ({ migrator, resolved }) => {
      const report = await migrator.status();
      const exitCode = report.drift.length ? ExitCode.drift : args['fail-on-pending'] && report.pending > 0 ? ExitCode.pending : ExitCode.success;
      const rendered = renderStatus(report, where, { allowOutOfOrder: resolved.settings.allowOutOfOrder });
      if (!args['show-config']) return { exitCode, json: report, text: rendered };
      const settings = describeSettings(resolved);
      const text = `${rendered}\n\nSettings${resolved.configFile ? ` (config file ${resolved.configFile})` : ' (no config file)'}:\n${table(['setting', 'value', 'source'], settings.map((s) => [s.setting, s.value, s.source]))}`;
      return { exitCode, json: { ...report, settings }, text };
    }),
});
