/**
 * A migrate worker that freezes right before a batch's data write, after the toolkit's local lease check: the whole
 * process blocks synchronously (no timers, no lease renewal), as under SIGSTOP, until the test creates `resumeFile`.
 *   stale-holder-worker.ts '<json options>'
 * Prints `PAUSED` when frozen, then one JSON line with the outcome; exits 0 (ok) or 1 (error).
 */
import { existsSync, writeSync } from 'node:fs';
import { Collection, MongoClient, type Document } from 'mongodb';
import { Migrator, createLogger, folderSource } from '@mongrate/core';

interface StaleHolderOptions {
  readonly uri: string;
  readonly dbName: string;
  readonly dir: string;
  readonly leaseMs: number;
  readonly batchSize: number;
  /** Freeze before the data write of this batch (1-based). */
  readonly pauseBeforeWrite: number;
  readonly resumeFile: string;
}

export const PAUSED = 'PAUSED';

const options = JSON.parse(process.argv[2] ?? '{}') as StaleHolderOptions;
let writes = 0;
const freezeAt = (): void => {
  if (++writes !== options.pauseBeforeWrite) return;
  writeSync(1, `${PAUSED}\n`);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(options.resumeFile)) Atomics.wait(cell, 0, 0, 50);
};

// A batch's data write is either the fenced aggregation on the lock collection ($merge) or a bulkWrite on the data.
const proto = Collection.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
const aggregate = proto.aggregate as (this: Collection<Document>, ...args: unknown[]) => unknown;
const bulkWrite = proto.bulkWrite as (this: Collection<Document>, ...args: unknown[]) => unknown;
proto.aggregate = function (this: Collection<Document>, ...args: unknown[]) {
  const pipeline = args[0];
  if (Array.isArray(pipeline) && pipeline.some((stage) => typeof stage === 'object' && stage !== null && '$merge' in stage)) freezeAt();
  return aggregate.apply(this, args);
};
proto.bulkWrite = function (this: Collection<Document>, ...args: unknown[]) {
  if (this.collectionName === 'tokens') freezeAt();
  return bulkWrite.apply(this, args);
};

const client = await MongoClient.connect(options.uri);
try {
  const migrator = new Migrator({
    client,
    dbName: options.dbName,
    sources: [folderSource(options.dir)],
    logger: createLogger({ level: process.env.WORKER_LOG_LEVEL ?? 'error' }),
    leaseMs: options.leaseMs,
    batchSize: options.batchSize,
  });
  const result = await migrator.up();
  process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
  process.exitCode = 0;
} catch (error) {
  process.stdout.write(`${JSON.stringify({ ok: false, error: { name: (error as Error).name, message: (error as Error).message } })}\n`);
  process.exitCode = 1;
} finally {
  await client.close().catch(() => undefined);
}
