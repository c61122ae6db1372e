import { InterruptedError } from '@mongrate/core';
import type { Logger } from 'winston';
import type { CliIo } from './cli-io.js';

/**
 * Signals this soon after the first belong to the same Ctrl-C: a terminal signals its whole foreground process group,
 * so a wrapper (`pnpm migrate`, a shell script) may forward a copy of the one this process already got.
 */
export const SAME_INTERRUPT_WINDOW_MS = 1000;

/** Whether a signal at `now` is a copy of the Ctrl-C first heard at `firstAt` (see `SAME_INTERRUPT_WINDOW_MS`). */
export function sameInterrupt(firstAt: number, now: number = Date.now()): boolean {
  return now - firstAt <= SAME_INTERRUPT_WINDOW_MS;
}

/** Thrown when a second, separate signal asks to stop at once: the run is abandoned, its lease expires by itself. */
export class ForcedExit extends Error {
  override name = 'ForcedExit';
}

/**
 * Runs `run` with a signal that SIGINT/SIGTERM abort: the run stops at the next batch boundary (state recorded, lock
 * released). A second signal, more than `SAME_INTERRUPT_WINDOW_MS` after the first, rejects with `ForcedExit` at once.
 */
export async function interruptible<T>(io: CliIo, logger: Logger, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let firstAt: number | undefined;
  let force: ((error: ForcedExit) => void) | undefined;
  const forced = new Promise<never>((_, reject) => (force = reject));
  forced.catch(() => undefined);
  const unsubscribe = io.onSignal((signal) => {
    const now = Date.now();
    if (firstAt === undefined) {
      firstAt = now;
      logger.warn(`${signal} received: stopping at the next batch boundary (press again to exit at once)`);
      controller.abort(new InterruptedError(`stopped by ${signal}`));
    } else if (!sameInterrupt(firstAt, now)) {
      force?.(new ForcedExit(`Second ${signal}: exiting now. The lease expires by itself; rerun to resume.`));
    }
  });
  try {
    return await Promise.race([run(controller.signal), forced]);
  } finally {
    unsubscribe();
  }
}
