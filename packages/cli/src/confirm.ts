import { createInterface } from 'node:readline/promises';
import type { CliIo } from './cli-io.js';

/** Asks a yes/no question on the terminal; anything but y/yes is no. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
