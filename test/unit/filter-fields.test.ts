import { describe, expect, it } from '@jest/globals';
import { ObjectId } from 'mongodb';
import { filterFields } from '../../packages/core/src/toolkit/filter-fields.js';

describe('filterFields: the top-level fields a filter depends on, or undefined when its outcome is not theirs alone', () => {
  it.each([
    [{ transaction_type: 'melted', status: 'unspent' }, ['transaction_type', 'status']],
    [{ 'meta.kind': 'a', 'meta.n': { $gt: 1 } }, ['meta']],
    [{ $and: [{ a: 1 }, { $or: [{ b: { $in: [1, 2] } }, { c: { $exists: false } }] }], $nor: [{ d: /x/ }] }, ['a', 'b', 'c', 'd']],
    [{ tags: { $elemMatch: { k: 'v', n: { $size: 2 } } }, $comment: 'why' }, ['tags']],
    [{ _id: { $gt: new ObjectId() }, at: new Date(0) }, ['_id', 'at']],
    [{ a: { $not: { $gt: 3 } } }, ['a']],
    [{}, []],
  ])('%j depends on %j', (filter, fields) => {
    expect(filterFields(filter)?.sort()).toEqual([...fields].sort());
  });

  it.each([
    [{ $expr: { $eq: ['$a', 1] } }],
    [{ a: 1, $where: 'this.b > 1' }],
    [{ $jsonSchema: { required: ['a'] } }],
    [{ $text: { $search: 'x' } }],
    [{ $or: [{ a: 1 }, { $expr: { $lt: ['$$NOW', '$b'] } }] }],
    // `$type` tells apart values that compare equal (5 and 5.0), which the exact comparison checks only at the top level.
    [{ 'a.b': { $type: 'double' } }],
    [{ a: { $elemMatch: { $type: 'int' } } }],
    [{ $and: 'not a list' }],
    [{ $unknownOperator: 1 }],
  ])('%j is not pinned to field values', (filter) => {
    expect(filterFields(filter)).toBeUndefined();
  });
});
