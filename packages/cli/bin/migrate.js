#!/usr/bin/env node
// The `migrate` command: the compiled CLI, in this process (no wrapper, so a terminal's Ctrl-C reaches one process).
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (existsSync(main)) {
  await import(main.href);
} else {
  process.stderr.write('Error: @mongrate/cli is not built (dist/main.js is missing). In the mongrate repository run `pnpm build` first.\n');
  process.exitCode = 1;
}
