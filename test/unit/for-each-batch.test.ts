import { describe, expect, it } from '@jest/globals';
import { forEachBatch, type BatchSource } from '../../packages/core/src/toolkit/for-each-batch.js';

/** An in-memory cursor that records whether it was closed. */
function source(n: number): BatchSource<number> & { closed: boolean } {
  const s = {
    closed: false,
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < n; i++) yield i;
    },
    async close() {
      s.closed = true;
    },
  };
  return s;
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('forEachBatch: batches in flight, commits in order', () => {
  it('runs up to `concurrency` batches at once and commits them in cursor order, whatever order they finish in', async () => {
    let running = 0;
    let most = 0;
    const committed: number[] = [];
    await forEachBatch(source(23), {
      batchSize: 5,
      concurrency: 3,
      beforeBatch: () => undefined,
      // Earlier batches take longer, so later ones finish first.
      work: async (batch) => {
        running++;
        most = Math.max(most, running);
        await tick(40 - (batch[0] ?? 0));
        running--;
        return batch[0] ?? -1;
      },
      commit: async (first, batch) => {
        expect(batch[0]).toBe(first);
        committed.push(first);
        await tick(1);
      },
    });
    expect(committed).toEqual([0, 5, 10, 15, 20]);
    expect(most).toBe(3);
  });

  it('with concurrency 1, one batch at a time', async () => {
    let running = 0;
    let most = 0;
    await forEachBatch(source(10), {
      batchSize: 3,
      concurrency: 1,
      beforeBatch: () => undefined,
      work: async () => {
        most = Math.max(most, ++running);
        await tick(2);
        running--;
      },
      commit: async () => undefined,
    });
    expect(most).toBe(1);
  });

  it('on a failed batch: starts no further batch, waits for those in flight, commits none after it, throws its error', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const committed: number[] = [];
    const cursor = source(100);
    const run = forEachBatch(cursor, {
      batchSize: 10,
      concurrency: 2,
      beforeBatch: () => undefined,
      work: async (batch) => {
        const first = batch[0] ?? -1;
        started.push(first);
        if (first === 20) {
          await tick(5);
          throw new Error('batch 20 failed');
        }
        await tick(first === 30 ? 60 : 10);
        finished.push(first);
        return first;
      },
      commit: async (first) => {
        committed.push(first);
      },
    });
    await expect(run).rejects.toThrow('batch 20 failed');
    // Batch 30 was in flight when 20 failed: it was awaited (it finished before forEachBatch returned), not committed.
    expect(finished).toContain(30);
    expect(committed).toEqual([0, 10]);
    expect(Math.max(...started)).toBeLessThanOrEqual(40);
    expect(cursor.closed).toBe(true);
  });

  it('a throwing check (lost lease, abort) stops before the next batch and still waits for those in flight', async () => {
    const finished: number[] = [];
    let checks = 0;
    const run = forEachBatch(source(50), {
      batchSize: 10,
      concurrency: 2,
      beforeBatch: () => {
        if (++checks === 3) throw new Error('lease lost');
      },
      work: async (batch) => {
        await tick(20);
        finished.push(batch[0] ?? -1);
      },
      commit: async () => undefined,
    });
    await expect(run).rejects.toThrow('lease lost');
    expect(finished.sort((a, b) => a - b)).toEqual([0, 10]);
  });

  it('a failed commit stops the run like a failed batch', async () => {
    const committed: number[] = [];
    await expect(
      forEachBatch(source(40), {
        batchSize: 10,
        concurrency: 2,
        beforeBatch: () => undefined,
        work: async (batch) => batch[0] ?? -1,
        commit: async (first) => {
          if (first === 10) throw new Error('checkpoint refused');
          committed.push(first);
        },
      }),
    ).rejects.toThrow('checkpoint refused');
    expect(committed).toEqual([0]);
  });
});
