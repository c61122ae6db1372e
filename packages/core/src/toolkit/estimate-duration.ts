import { performance } from 'node:perf_hooks';
import type { Document, Filter } from 'mongodb';
import type { ImpactReport, PreviewContext } from '../migration.js';
import { targetCollection, type ToolkitTarget } from './target.js';

/** How many targets the estimate's probe reads when no earlier run measured the throughput. */
export const ESTIMATE_PROBE_SIZE = 100;

/** What `estimateBackupAndUpdate` needs: the same target, filter and fields as the `backupAndUpdate` call, and the number of targets. */
export interface EstimateOptions extends ToolkitTarget {
  readonly filter: Filter<Document>;
  readonly targets: number;
  readonly fields: readonly string[];
}

/**
 * Estimates how long `backupAndUpdate` will take for `targets` documents, from measured throughput:
 * earlier runs' docs/s when there are any, else a small probe (the timed read of `ESTIMATE_PROBE_SIZE` targets) scaled
 * to the batches and the four round trips each makes (read, backup, update, checkpoint). Writes nothing.
 */
export async function estimateBackupAndUpdate(
  ctx: PreviewContext,
  options: EstimateOptions,
): Promise<NonNullable<ImpactReport['estimate']>> {
  const collection = targetCollection(options);
  if (options.targets === 0) return { seconds: 0, basis: 'nothing to migrate' };
  const history = await ctx.measuredThroughput();
  if (history.length > 0) {
    const sorted = [...history].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 1;
    return { seconds: round(options.targets / median), basis: `median of ${history.length} earlier run(s): ${Math.round(median)} docs/s` };
  }
  const started = performance.now();
  const page = await ctx.db
    .collection(collection)
    .find(options.filter, { projection: Object.fromEntries(options.fields.map((f) => [f, 1])), limit: Math.min(ESTIMATE_PROBE_SIZE, options.targets) })
    .toArray();
  const readMs = performance.now() - started;
  const batches = Math.ceil(options.targets / Math.max(1, ctx.batchSize));
  const perBatchMs = readMs * 4 * (ctx.batchSize / Math.max(1, page.length));
  return { seconds: round((batches * perBatchMs) / 1000), basis: `timed read of ${page.length} targets (${Math.round(readMs)} ms), scaled to ${batches} batch(es) × 4 round trips` };
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
