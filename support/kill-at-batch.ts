import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { finished, spawnTs, type Finished } from './spawn-ts.js';
import { REPO_ROOT } from './server.js';

export const MIGRATE_WORKER = path.join(REPO_ROOT, 'test', 'support', 'migrate-worker.ts');

export interface KillAtBatchOptions {
  readonly uri: string;
  readonly dbName: string;
  readonly dir: string;
  readonly direction: 'up' | 'down';
  readonly batchSize: number;
  readonly leaseMs: number;
  /** Kill -9 once this many batches are checkpointed. */
  readonly afterBatches: number;
  /** `boundary` (default): exactly after that batch's checkpoint. `inside-next`: the worker keeps running, so the kill lands inside a later batch, between any two of its writes. */
  readonly at?: 'boundary' | 'inside-next';
}

/**
 * Runs a migrate worker and kills it with SIGKILL once its `afterBatches`-th batch is checkpointed: exactly there
 * (`boundary`; with the default concurrency the next batch may already be in flight), or a moment later inside the
 * next batch (`inside-next`). Resolves `killed: false` if the run ended
 * before the kill (it had fewer batches), which callers must accept as a correct outcome.
 */
export async function killAtBatch(options: KillAtBatchOptions): Promise<{ killed: boolean; result: Finished }> {
  const { uri, dbName, dir, direction, batchSize, leaseMs, afterBatches, at = 'boundary' } = options;
  const child: ChildProcess = spawnTs(
    MIGRATE_WORKER,
    ['up', JSON.stringify({ uri, dbName, dir, batchSize, direction, leaseMs, pauseAfterBatches: afterBatches, keepRunning: at === 'inside-next' })],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let killed = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (!killed && chunk.toString().includes('PAUSED')) {
      killed = true;
      child.kill('SIGKILL');
    }
  });
  const result = await finished(child);
  return { killed, result };
}
