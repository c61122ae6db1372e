import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
  tty: Boolean(process.stderr.isTTY),
});
// Let stdout drain, then exit even if a driver socket or timer lingers.
process.stdout.write('', () => process.exit(code));
