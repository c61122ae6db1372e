import type { FindCursor } from 'mongodb';

/** Streams a cursor in arrays of `batchSize`, calling `beforeBatch` (checks) and then `handle` for each. */
export async function forEachBatch<T>(
  cursor: FindCursor<T>,
  batchSize: number,
  beforeBatch: () => void,
  handle: (batch: T[]) => Promise<void>,
): Promise<void> {
  let batch: T[] = [];
  for await (const item of cursor) {
    batch.push(item);
    if (batch.length === batchSize) {
      beforeBatch();
      await handle(batch);
      batch = [];
    }
  }
  if (batch.length > 0) {
    beforeBatch();
    await handle(batch);
  }
}
