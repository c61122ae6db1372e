import { DEFAULT_PREVIEW_SAMPLES, DEFAULT_PREVIEW_TOP } from '@mongrate/core';
import { defineCommand } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { idPositional, wholeNumber } from '../options.js';
import { renderPreview } from '../render.js';
import { withMigrator } from '../with-migrator.js';

export const previewCommand = defineCommand({
  command: 'preview [id]',
  describe: 'Report the impact of pending migrations (or one) without writing',
  builder: (y) =>
    idPositional('Migration id, name or number')(y)
      .option('top', { type: 'string', default: String(DEFAULT_PREVIEW_TOP), coerce: wholeNumber('--top', 'a whole number, 0 or more', 0), describe: 'Users to list' })
      .option('samples', { type: 'string', default: String(DEFAULT_PREVIEW_SAMPLES), coerce: wholeNumber('--samples', 'a whole number, 0 or more', 0), describe: 'Sample documents to list' }),
  run: (args, io) =>
    withMigrator(args, io, async ({ migrator }) => {
      const results = await migrator.preview({ ...(args.id ? { migration: args.id } : {}), top: args.top, samples: args.samples });
      // Nothing pending, or only applied migrations named: nothing to preview.
      const nothing = results.every((r) => r.state === 'applied');
      return { exitCode: nothing ? ExitCode.nothingToDo : ExitCode.success, json: results, text: renderPreview(results) };
    }),
});
