import { describe, expect, it } from '@jest/globals';
import { conditionalUpdate, pipelineUpdateRefused } from '../../packages/core/src/toolkit/conditional-update.js';

describe('conditionalUpdate', () => {
  it('finds the document by _id alone and sets or removes each field only where the condition holds', () => {
    const when = { $eq: ['$a', 1] };
    expect(conditionalUpdate('id', when, { s: '$notAPath' }, ['gone'])).toEqual({
      updateOne: {
        filter: { _id: 'id' },
        update: [{ $set: { s: { $cond: [when, { $literal: '$notAPath' }, '$s'] }, gone: { $cond: [when, '$$REMOVE', '$gone'] } } }],
      },
    });
  });
});

describe('pipelineUpdateRefused: only a refusal of update pipelines as such sends a batch to the other write', () => {
  const bulkError = (codes: number[]) => ({ code: codes[0], writeErrors: codes.map((code, index) => ({ code, index })) });
  it.each([
    ['a command refused as unsupported', { code: 115 }, 3, true],
    ['a command failing to parse the pipeline', { code: 9 }, 3, true],
    ['every update refused', bulkError([9, 9, 9]), 3, true],
    // The bulk error carries its first write error's code: the others were written.
    ['one update of three failing with a parse code', bulkError([9]), 3, false],
    ['every update failing for another reason', bulkError([11000, 11000, 11000]), 3, false],
    ['another command error', { code: 6 }, 3, false],
    ['not a server error', new Error('boom'), 3, false],
  ])('%s: %s', (_label, error, operations, refused) => {
    expect(pipelineUpdateRefused(error, operations)).toBe(refused);
  });
});
