import { runCli } from './cli.js';
import { sameInterrupt } from './interrupt.js';

/** When the run's listener got its first signal. */
let signalledAt: number | undefined;

/**
 * Listens once the run has stopped listening, after a signal: a copy of that signal forwarded late by a wrapper
 * (`pnpm migrate`, a shell script) would otherwise meet no listener and kill the process by default while it records
 * the stop and exits. A separate signal (not `sameInterrupt`) still kills it as before.
 */
function afterRun(signal: NodeJS.Signals): void {
  if (signalledAt !== undefined && sameInterrupt(signalledAt)) return;
  process.off('SIGINT', afterRun);
  process.off('SIGTERM', afterRun);
  process.kill(process.pid, signal);
}

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
    const heard = (signal: NodeJS.Signals) => {
      signalledAt ??= Date.now();
      listener(signal);
    };
    process.on('SIGINT', heard);
    process.on('SIGTERM', heard);
    return () => {
      process.off('SIGINT', heard);
      process.off('SIGTERM', heard);
      if (signalledAt !== undefined && process.listenerCount('SIGINT') === 0) {
        process.on('SIGINT', afterRun);
        process.on('SIGTERM', afterRun);
      }
    };
  },
});
// The one place the process exits: let stdout drain, then exit even if a driver socket or timer lingers.
process.stdout.write('', () => process.exit(code));
