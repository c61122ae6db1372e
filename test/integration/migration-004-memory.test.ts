import path from 'node:path';
import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { seedSampleData } from '@nctool/cashu-models/sample-data';
import { openTestDatabase, serverUri, type TestDatabase } from '../support/database.js';
import { REPO_ROOT } from '../support/server.js';
import { finished, spawnTs } from '../support/spawn-ts.js';

interface MemoryFigures {
  flipped: number;
  restored: number;
  upMs: number;
  downMs: number;
  peakRssMb: number;
  rssGrowthMb: number;
  heapGrowthMb: number;
}

let t: TestDatabase;
beforeEach(async () => {
  t = await openTestDatabase(import.meta.filename);
});
afterEach(async () => {
  await t.drop();
});

async function measure(targets: number): Promise<MemoryFigures> {
  // Every generated token is a target: buggyShare 1.
  await seedSampleData(t.db, { tokens: targets, buggyShare: 1, correctMeltedShare: 0, users: 500, seed: targets });
  const child = spawnTs(path.join(REPO_ROOT, 'test', 'support', 'memory-run.ts'), [JSON.stringify({ uri: serverUri(), dbName: t.name })], {
    stdio: ['ignore', 'pipe', 'inherit'],
    // Collect every 100 ms, so the peak is what the run retains, not garbage not yet collected.
    nodeArgs: ['--expose-gc'],
  });
  const { code, stdout } = await finished(child);
  expect(code).toBe(0);
  const figures = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as MemoryFigures;
  await t.db.dropDatabase();
  return figures;
}

it('migrates 100k tokens with memory flat against 10k (figures printed)', async () => {
  const small = await measure(10_000);
  const large = await measure(100_000);
  process.stdout.write(`\nmemory 10k:  ${JSON.stringify(small)}\nmemory 100k: ${JSON.stringify(large)}\n`);
  expect(small.flipped).toBe(10_000);
  expect(small.restored).toBe(10_000);
  expect(large.flipped).toBe(100_000);
  expect(large.restored).toBe(100_000);
  // Ten times the documents, no more retained memory than a few batches' worth of slack.
  expect(large.heapGrowthMb - small.heapGrowthMb).toBeLessThan(16);
  expect(large.rssGrowthMb - small.rssGrowthMb).toBeLessThan(32);
  // 110k documents up and down on 2 shared cores: the bound only stops a hang, it times nothing.
}, 900_000);
