/**
 * A separate OS process that runs a migrator, for the concurrency and crash tests.
 *   migrate-worker.ts up   '<json options>'   runs up() once, prints a JSON line, exits 0 (ok) or 1 (error)
 *   migrate-worker.ts serve '<json options>'  waits for IPC messages { dbName }, runs up() for each, replies
 */
import { writeSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { Migrator, createLogger, folderSource, type MigrateError } from '@mongrate/core';

interface WorkerOptions {
  readonly uri: string;
  readonly dbName?: string;
  readonly dir: string;
  readonly leaseMs?: number;
  readonly lockPollMs?: number;
  readonly batchSize?: number;
  readonly direction?: 'up' | 'down';
  readonly migration?: string;
  /** After this many batches (progress events), print `PAUSED` and block, so a test can kill -9 at an exact point. */
  readonly pauseAfterBatches?: number;
  /** With `pauseAfterBatches`: print the line but keep running, so the kill lands somewhere in the next batch. */
  readonly keepRunning?: boolean;
}

/** The line a worker prints when it has blocked at `pauseAfterBatches`. */
export const PAUSED = 'PAUSED';

const [mode, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}') as WorkerOptions;
const client = await MongoClient.connect(options.uri);
const logger = createLogger({ level: process.env.WORKER_LOG_LEVEL ?? 'error' });

function migratorFor(dbName: string | undefined): Migrator {
  return new Migrator({
    client,
    ...(dbName ? { dbName } : {}),
    sources: [folderSource(options.dir)],
    logger,
    ...(options.leaseMs ? { leaseMs: options.leaseMs } : {}),
    ...(options.lockPollMs ? { lockPollMs: options.lockPollMs } : {}),
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
  });
}

/** The error's name and code, and the code of the deepest MigrateError in its cause chain. */
function describe(error: unknown) {
  let rootCode: string | undefined;
  for (let x: unknown = error; x instanceof Error; x = x.cause) {
    const code = (x as Partial<MigrateError>).code;
    if (typeof code === 'string') rootCode = code;
  }
  return { name: (error as Error).name, code: (error as MigrateError).code, rootCode, message: (error as Error).message };
}

if (mode === 'up') {
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
  try {
    const m = migratorFor(options.dbName);
    let batches = 0;
    m.on('progress', () => {
      if (++batches !== options.pauseAfterBatches) return;
      // Synchronously: the checkpoint of this batch is saved; the next batch may be in flight (the default concurrency).
      writeSync(1, `${PAUSED}\n`);
      if (!options.keepRunning) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
    });
    const result = options.direction === 'down'
      ? await m.down(options.migration ? { migration: options.migration } : {})
      : await m.up(options.migration ? { migration: options.migration } : {});
    process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
    await client.close();
    process.exitCode = 0;
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: describe(error) })}\n`);
    await client.close().catch(() => undefined);
    process.exitCode = 1;
  }
} else if (mode === 'serve') {
  process.on('message', (message: { dbName: string } | { exit: true }) => {
    if ('exit' in message) {
      void client.close().finally(() => process.disconnect());
      return;
    }
    migratorFor(message.dbName)
      .up()
      .then(
        (result) => process.send?.({ ok: true, applied: result.migrations.map((m) => m.id), nothingToDo: result.nothingToDo }),
        (error: unknown) => process.send?.({ ok: false, error: describe(error) }),
      );
  });
  process.send?.({ ready: true });
}
