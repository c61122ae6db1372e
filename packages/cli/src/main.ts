import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
  tty: Boolean(process.stderr.isTTY),
  ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
  onSignal(listener) {
    process.on('SIGINT', listener);
    process.on('SIGTERM', listener);
    return () => {
      process.off('SIGINT', listener);
      process.off('SIGTERM', listener);
    };
  },
});
// The one place the process exits: let stdout drain, then exit even if a driver socket or timer lingers.
process.stdout.write('', () => process.exit(code));
