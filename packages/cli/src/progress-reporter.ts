import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';
import type { Migrator, ProgressEvent } from '@mongrate/core';
import type { Logger } from 'winston';

/** Runs shorter than this get no bar. */
export const PROGRESS_BAR_AFTER_MS = 750;
/** Non-TTY progress lines, at most one per this interval. */
export const PROGRESS_LOG_INTERVAL_MS = 2000;

/**
 * Shows progress: a bar on a TTY for runs long enough to need one, structured log lines otherwise.
 * Returns a function that stops it.
 */
export function reportProgress(migrator: Migrator, options: { readonly tty: boolean; readonly stream: NodeJS.WritableStream; readonly logger: Logger }): () => void {
  let bar: cliProgress.SingleBar | undefined;
  let startedAt = performance.now();
  let lastLog = 0;
  const onStart = () => {
    startedAt = performance.now();
  };
  const onProgress = (e: ProgressEvent) => {
    const now = performance.now();
    if (options.tty) {
      if (!bar && e.total && now - startedAt >= PROGRESS_BAR_AFTER_MS) {
        bar = new cliProgress.SingleBar(
          { stream: options.stream, format: `${e.migrationId} ${e.phase} [{bar}] {percentage}% {value}/{total} docs, eta {eta_formatted}`, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(e.total, e.done);
      }
      if (bar) {
        if (e.total) bar.setTotal(e.total);
        bar.update(e.done);
      }
    } else if (now - lastLog >= PROGRESS_LOG_INTERVAL_MS) {
      lastLog = now;
      options.logger.info('progress', { migration: e.migrationId, phase: e.phase, done: e.done, total: e.total, percent: e.total ? Math.round((e.done / e.total) * 100) : undefined });
    }
  };
  const onEnd = () => {
    bar?.stop();
    bar = undefined;
  };
  migrator.on('migrating', onStart);
  migrator.on('reverting', onStart);
  migrator.on('progress', onProgress);
  migrator.on('migrated', onEnd);
  migrator.on('reverted', onEnd);
  return () => {
    onEnd();
    migrator.off('migrating', onStart);
    migrator.off('reverting', onStart);
    migrator.off('progress', onProgress);
    migrator.off('migrated', onEnd);
    migrator.off('reverted', onEnd);
  };
}
