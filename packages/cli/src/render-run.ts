import type { Migrator, RunResult } from '@mongrate/core';

/** A migration's own one-line summary of its counts (its optional `summary` export), by id. */
export async function summaries(migrator: Migrator, result: RunResult): Promise<ReadonlyMap<string, string>> {
  const byId = new Map((await migrator.load()).map((m) => [m.id, m.module]));
  const out = new Map<string, string>();
  for (const m of result.migrations) {
    const summary = byId.get(m.id)?.summary;
    if (summary && m.counts) out.set(m.id, summary(m.counts, result.direction));
  }
  return out;
}
