import { carriesSecret, hasPassword } from '@mongrate/core';

/** A core remedy (see `Remedy` in @mongrate/core errors), read structurally so an older core without it still works. */
interface RemedyLike {
  readonly call?: string;
  readonly options?: Readonly<Record<string, string | number | boolean>>;
  readonly why?: string;
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** One remedy as a command line: call → `migrate <call>`, `migration` → positional, other options → `--kebab-case` flags. */
export function renderRemedy(remedy: RemedyLike): string {
  const parts: string[] = remedy.call ? ['migrate', remedy.call] : [];
  for (const [name, value] of Object.entries(remedy.options ?? {})) {
    if (name === 'uri') {
      parts.push('MONGODB_URI (or --uri)');
    } else if (name === 'migration') {
      parts.push(String(value));
    } else if (value === true) {
      parts.push(`--${kebab(name)}`);
    } else if (value !== false) {
      parts.push(`--${kebab(name)} ${String(value)}`);
    }
  }
  return parts.join(' ');
}

/** The global flags that choose what a command acts on: a remedy repeats them, or it would act elsewhere. */
const WHERE_FLAGS: readonly string[] = ['--uri', '--migrations', '--database', '--config'];

/** Stands for a `--uri` that carries a secret (a password, a token): the printed command then fails as bad input instead of running elsewhere. */
export const URI_PLACEHOLDER = "'<the connection string you passed>'";

/**
 * The flags of `argv` that choose what the command acted on (`--uri`, `--migrations`, `--database`, `--config`, as
 * given), to repeat in the commands a remedy prints; '' when there are none. A `--uri` that carries a secret (anything
 * `redactSecrets` would hide) is never printed: `URI_PLACEHOLDER` stands in its place.
 */
export function whereFlags(argv: readonly string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (!WHERE_FLAGS.includes(name)) continue;
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) continue;
    parts.push(`${name} ${name === '--uri' && (hasPassword(value) || carriesSecret(value)) ? URI_PLACEHOLDER : shellWord(value)}`);
  }
  return parts.join(' ');
}

/** `` `migrate <command> <where>` ``: a command for output to suggest, repeating the flags that chose what this one acted on (`whereFlags`). */
export function commandLine(command: string, where = ''): string {
  return `\`migrate ${command}${where ? ` ${where}` : ''}\``;
}

/** `value` as one POSIX shell word: as it is when it holds no character the shell reads, else single-quoted. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

/**
 * "Next: `migrate down x --yes` reverts it; `migrate up` finishes it." for an error's remedies (alternatives, each with
 * its reason when core gives one); undefined when it has none. A `down` is rendered with `--yes`: a remedy is a command
 * to run as it is, also where no prompt can be answered. `where` (see `whereFlags`) is added to each command.
 */
export function renderRemedies(error: unknown, where = ''): string | undefined {
  const remedies = (error as { remedies?: unknown } | null | undefined)?.remedies;
  if (!Array.isArray(remedies) || remedies.length === 0) return undefined;
  const lines = (remedies as RemedyLike[]).map((r) => {
    // Not a command: the connection string itself is the remedy.
    if (!r.call && r.options?.uri) {
      const why = r.why?.replace(/\.$/, '');
      const lead = "check the connection string (MONGODB_URI, MONGRATE_URI, --uri or the config file's uri/uriEnv)";
      // A reason that only repeats the lead adds nothing.
      return why && !/^check the connection string$/i.test(why) ? `${lead}: ${why.charAt(0).toLowerCase()}${why.slice(1)}` : lead;
    }
    const command = `\`${renderRemedy(r)}${r.call === 'down' ? ' --yes' : ''}${r.call && where ? ` ${where}` : ''}\``;
    if (!r.why) return command;
    const why = r.why.replace(/\.$/, '');
    return why.startsWith('It ') ? `${command} ${why.slice(3)}` : `${command} (${why.charAt(0).toLowerCase()}${why.slice(1)})`;
  });
  return `Next: ${lines.join('; ')}.`;
}
