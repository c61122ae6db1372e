import type { Migrator } from '@mongrate/core';
import type { Logger } from 'winston';
import type { CliIo } from '../cli-io.js';
import { reportProgress } from '../progress-reporter.js';

/** Runs `run` with a progress bar (terminal) or progress log lines. */
export async function withProgress<T>(m: Migrator, io: CliIo, logger: Logger, run: () => Promise<T>): Promise<T> {
  const stop = reportProgress(m, { tty: io.tty, stream: io.stderr, logger });
  try {
    return await run();
  } finally {
    stop();
  }
}
