import { describe, expect, it } from '@jest/globals';
import { Double, Int32, ObjectId } from 'mongodb';
import { sameValue } from '../../packages/core/src/toolkit/backup-document.js';

describe('sameValue: equal as stored, type and form included', () => {
  it.each([
    ['an ObjectId and a document spelling it', new ObjectId('1'.repeat(24)), { $oid: '1'.repeat(24) }, false],
    ['Int32 5 and Double 5', new Int32(5), new Double(5), false],
    ['a JS integer and the Int32 it is stored as', 5, new Int32(5), true],
    ['null and undefined (absent)', null, undefined, false],
    ['two equal dates', new Date(7), new Date(7), true],
    ['objects with fields reordered', { a: 1, b: 2 }, { b: 2, a: 1 }, false],
  ])('%s', (_label, a, b, same) => {
    expect(sameValue(a, b)).toBe(same);
  });
});
