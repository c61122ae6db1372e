/** What `forEachBatch` reads: a driver cursor, or anything iterable that can be closed early. */
export interface BatchSource<T> extends AsyncIterable<T> {
  close(): Promise<void>;
}

/** How `forEachBatch` runs the batches of one cursor. */
export interface BatchPipeline<T, R> {
  readonly batchSize: number;
  /** Batches whose `work` may run at once (at least 1). */
  readonly concurrency: number;
  /** Checks before each batch starts (the lease, the abort signal); a throw stops the run. */
  readonly beforeBatch: () => void;
  /** A batch's data work. Batches hold disjoint documents, so up to `concurrency` of them run at once. */
  readonly work: (batch: T[]) => Promise<R>;
  /** Records a finished batch (checkpoint, progress): called one at a time, in cursor order, never out of order. */
  readonly commit: (result: R, batch: T[]) => Promise<void>;
}

/**
 * Streams a cursor in arrays of `batchSize` and runs each through `work`, keeping up to `concurrency` batches in
 * flight, then `commit`s them strictly in order. So the server works on one batch while the next is read and another
 * written, yet a checkpoint never gets ahead of a batch that has not finished. On a failure no further batch starts,
 * every batch in flight is awaited (nothing keeps writing after this returns), and the first error is thrown.
 */
export async function forEachBatch<T, R>(cursor: BatchSource<T>, pipeline: BatchPipeline<T, R>): Promise<void> {
  const { batchSize, concurrency, beforeBatch, work, commit } = pipeline;
  const inFlight = new Set<Promise<void>>();
  let committed: Promise<void> = Promise.resolve();
  let failure: { readonly error: unknown } | undefined;

  const start = (batch: T[]): void => {
    beforeBatch();
    const done = work(batch);
    // A batch commits after its own work and after every earlier batch has committed; a failed batch blocks the
    // commits of those after it, whose work is still awaited below.
    const next = committed.then(async () => commit(await done, batch));
    committed = next;
    // Settled only once the batch's own work has ended, even when an earlier batch's failure rejects its commit first.
    const settled: Promise<void> = Promise.allSettled([done, next]).then((results) => {
      for (const r of results) if (r.status === 'rejected') failure ??= { error: r.reason };
    });
    const tracked = settled.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const slot = async (): Promise<void> => {
    while (inFlight.size >= Math.max(1, concurrency) && failure === undefined) await Promise.race(inFlight);
  };

  try {
    let batch: T[] = [];
    for await (const item of cursor) {
      batch.push(item);
      if (batch.length < batchSize) continue;
      await slot();
      if (failure !== undefined) break;
      start(batch);
      batch = [];
    }
    if (batch.length > 0 && failure === undefined) {
      await slot();
      if (failure === undefined) start(batch);
    }
  } finally {
    await Promise.all(inFlight);
    if (failure !== undefined) await cursor.close().catch(() => undefined);
  }
  if (failure !== undefined) throw failure.error;
}
