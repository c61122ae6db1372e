import { redactSecrets, InvalidOptionError } from '@mongrate/core';
import yargs from 'yargs';
import type { CliIo } from './cli-io.js';
import type { Outcome, RegisteredCommand } from './command.js';
import { baselineCommand } from './commands/baseline.js';
import { createCommand } from './commands/create.js';
import { downCommand } from './commands/down.js';
import { historyCommand } from './commands/history.js';
import { previewCommand } from './commands/preview.js';
import { repairCommand } from './commands/repair.js';
import { statusCommand } from './commands/status.js';
import { unlockCommand } from './commands/unlock.js';
import { upCommand } from './commands/up.js';
import { verifyCommand } from './commands/verify.js';
import { reportError } from './error-report.js';
import { ExitCode } from './exit-codes.js';
import { ForcedExit } from './interrupt.js';
import { whereFlags } from './remedy.js';
import { globalOptions } from './options.js';

export type { CliIo } from './cli-io.js';

/** Every verb, in help order. */
export const COMMANDS: readonly RegisteredCommand[] = [
  previewCommand,
  statusCommand,
  upCommand,
  downCommand,
  historyCommand,
  verifyCommand,
  unlockCommand,
  createCommand,
  baselineCommand,
  repairCommand,
];

/** Runs the `migrate` command line; resolves to the exit code. Never exits the process itself; all I/O goes through `io`. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let outcome: Outcome | undefined;
  let jsonMode = argv.includes('--json');
  const parser = buildParser(argv, io, (o) => (outcome = o));
  try {
    const args = await parser.parseAsync();
    jsonMode = args.json;
    if (!outcome) return ExitCode.success; // --help, --version
  } catch (error) {
    if (error instanceof ForcedExit) {
      io.stderr.write(`\n${error.message}\n`);
      return ExitCode.interrupted;
    }
    const report = reportError(error, whereFlags(argv));
    if (jsonMode) io.stdout.write(`${JSON.stringify({ ok: false, exitCode: report.exitCode, error: { name: report.name, code: report.code, message: report.message } }, null, 2)}\n`);
    else io.stderr.write(`Error: ${report.message}\n`);
    return report.exitCode;
  }
  if (jsonMode) io.stdout.write(`${JSON.stringify({ ok: outcome.exitCode === ExitCode.success, exitCode: outcome.exitCode, result: outcome.json }, null, 2)}\n`);
  else io.stdout.write(`${outcome.text}\n`);
  return outcome.exitCode;
}

function buildParser(argv: readonly string[], io: CliIo, done: (o: Outcome) => void) {
  let parser = globalOptions(yargs([...argv]))
    .scriptName('migrate')
    .usage('$0 <command> [options]\n\nMongoDB migrations: preview the impact, apply, roll back, and audit.');
  const where = whereFlags(argv);
  for (const command of COMMANDS) parser = command.register(parser, io, done, where);
  return parser
    .demandCommand(1, `Name a command: ${COMMANDS.map((c) => c.name).join(', ')}`)
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      // yargs reports its own validation (and our coerce checks) as YError: that is bad input.
      if (error && error.name !== 'YError') throw error;
      const text = redactSecrets(`${(message ?? error?.message ?? 'Bad arguments').replace(/\.+$/, '')}. Run \`migrate --help\` for usage.`);
      throw new InvalidOptionError(text, { cause: error });
    })
    .help()
    .version(false)
    .wrap(Math.min(110, io.columns || 100));
}
