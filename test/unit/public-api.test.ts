import { describe, expect, it } from '@jest/globals';
import * as core from '@mongrate/core';
import * as models from '@nctool/cashu-models';
import * as sampleData from '@nctool/cashu-models/sample-data';

describe('public API (issue 14)', () => {
  it('core names its exports; internals do not leak', () => {
    for (const internal of ['computeDrift', 'isExecuted', 'ServerClock', 'newFence', 'StateReader', 'RecordKeeper', 'stateCollection', 'messageOf', 'isDuplicateKey']) {
      expect(Object.keys(core)).not.toContain(internal);
    }
  });

  it('core exports every default the CLI shows, as a constant', () => {
    expect(core).toMatchObject({
      DEFAULT_LOCK_WAIT_TIMEOUT_MS: 300_000,
      DEFAULT_LEASE_MS: 60_000,
      DEFAULT_PREVIEW_TOP: 10,
      DEFAULT_PREVIEW_SAMPLES: 5,
      DEFAULT_SERVER_SELECTION_TIMEOUT_MS: 10_000,
      DEFAULT_BATCH_SIZE: 1000,
      DEFAULT_CONCURRENCY: 2,
      MAX_CONCURRENCY: 16,
    });
  });

  it('the models package keeps its sample data out of its main entry point', () => {
    expect(Object.keys(models)).not.toContain('seedSampleData');
    expect(Object.keys(models)).not.toContain('sampleTokens');
    expect(typeof sampleData.seedSampleData).toBe('function');
  });
});
