/**
 * Runs migration 004 up then down in this process and prints peak memory as one JSON line.
 *   memory-run.ts '{"uri":"...","dbName":"...","batchSize":1000}'
 */
import { MongoClient } from 'mongodb';
import { Migrator, createLogger } from '@mongrate/core';
import { migrationSource } from '@nctool/migrations';

const { uri, dbName, batchSize } = JSON.parse(process.argv[2] ?? '{}') as { uri: string; dbName: string; batchSize?: number };
const client = await MongoClient.connect(uri);
const migrator = new Migrator({ client, dbName, sources: [migrationSource], logger: createLogger({ level: 'error' }), ...(batchSize ? { batchSize } : {}) });
await migrator.load();
await migrator.status();
global.gc?.();
const baseline = process.memoryUsage();
let peakRss = baseline.rss;
let peakHeap = baseline.heapUsed;
let ticks = 0;
const sampler = setInterval(() => {
  // With --expose-gc, sample what is retained rather than what the collector has not yet reclaimed.
  if (global.gc && ++ticks % 10 === 0) global.gc();
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
}, 10);
const t0 = performance.now();
const up = await migrator.up();
const t1 = performance.now();
const down = await migrator.down();
const t2 = performance.now();
clearInterval(sampler);
await client.close();
const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;
process.stdout.write(
  `${JSON.stringify({
    flipped: up.migrations[0]?.counts?.flipped,
    restored: down.migrations[0]?.counts?.restored,
    upMs: Math.round(t1 - t0),
    downMs: Math.round(t2 - t1),
    baselineRssMb: mb(baseline.rss),
    peakRssMb: mb(peakRss),
    rssGrowthMb: mb(peakRss - baseline.rss),
    heapGrowthMb: mb(peakHeap - baseline.heapUsed),
  })}\n`,
);
