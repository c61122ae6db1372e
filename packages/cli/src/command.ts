import type { ArgumentsCamelCase, Argv } from 'yargs';
import type { CliIo } from './cli-io.js';
import type { ExitCode } from './exit-codes.js';
import type { GlobalArgs } from './options.js';

/** What a command produced: an exit code, a value for `--json` and text for people. */
export interface Outcome {
  readonly exitCode: ExitCode;
  readonly json: unknown;
  readonly text: string;
}

/** One verb: its yargs signature, typed args, and what it does. */
export interface CommandDefinition<A> {
  /** yargs command string, e.g. `up [id]`. */
  readonly command: string;
  readonly describe: string;
  /** Adds the verb's own positionals and options to the global ones. */
  readonly builder: (y: Argv<GlobalArgs>) => Argv<A>;
  /** `where`: the flags that chose what the command acts on (`whereFlags`), for the commands its output suggests. */
  readonly run: (args: ArgumentsCamelCase<A>, io: CliIo, where: string) => Promise<Outcome>;
}

/** A verb, ready to register: its argument type stays inside. */
export interface RegisteredCommand {
  readonly name: string;
  register(y: Argv<GlobalArgs>, io: CliIo, done: (outcome: Outcome) => void, where: string): Argv<GlobalArgs>;
}

/** Defines a verb; the handler gets the args its builder declared, with no casts. */
export function defineCommand<A extends GlobalArgs>(definition: CommandDefinition<A>): RegisteredCommand {
  return {
    name: definition.command.split(' ')[0] ?? definition.command,
    register: (y, io, done, where) =>
      y.command<A>(definition.command, definition.describe, definition.builder, async (args) => {
        done(await definition.run(args, io, where));
      }),
  };
}
