import { describe, expect, it } from '@jest/globals';
import { BSONSymbol, Decimal128, Double, Long, ObjectId } from 'mongodb';
import { filterFields, matchesEquality } from '../../packages/core/src/toolkit/filter-fields.js';

describe('filterFields: the top-level fields a filter depends on, or undefined when its outcome is not theirs alone', () => {
  it.each([
    [{ transaction_type: 'melted', status: 'unspent' }, ['transaction_type', 'status']],
    [{ 'meta.kind': 'a', 'meta.n': { $gt: 1 } }, ['meta']],
    [{ $and: [{ a: 1 }, { $or: [{ b: { $in: [1, 2] } }, { c: { $exists: false } }] }], $nor: [{ d: { $ne: null } }] }, ['a', 'b', 'c', 'd']],
    [{ tags: { $elemMatch: { k: 'v', n: { $size: 2 }, $or: [{ x: 1 }, { y: { $lt: 2 } }] } }, $comment: 'why' }, ['tags']],
    [{ scores: { $elemMatch: { $gte: 80, $lt: 90 } }, sizes: { $all: [1, 2] } }, ['scores', 'sizes']],
    [{ meta: { kind: 'a', n: 1 } }, ['meta']],
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
    // On DocumentDB a regular expression does not match a symbol, which the exact comparison finds equal to the string.
    [{ 'meta.tag': /^abc$/ }],
    [{ 'meta.tag': { $regex: '^abc$' } }],
    [{ tags: { $in: ['a', /b/] } }],
    [{ a: { $not: /x/ } }],
    // On DocumentDB the bit tests tell a Decimal from the Double of the same value.
    [{ 'n.x': { $bitsAllSet: 1 } }],
    [{ n: { $mod: [2, 0] } }],
    [{ loc: { $geoWithin: { $centerSphere: [[0, 0], 1] } } }],
  ])('%j is not pinned to field values', (filter) => {
    expect(filterFields(filter)).toBeUndefined();
  });
});

describe('matchesEquality: whether { field: wanted } matches a document holding value, as the server decides', () => {
  it.each([
    ['1 and Long 1', 1, Long.fromNumber(1), true],
    ['1 and Double 1.0', 1, new Double(1), true],
    ['1 and Decimal 1.00', 1, Decimal128.fromString('1.00'), true],
    ['2^53 + 1 and Long 2^53 (told apart)', 9007199254740993n, Long.fromString('9007199254740992'), false],
    ['a string and its symbol', 'a', new BSONSymbol('a'), true],
    ['a string and an array holding it', 'a', ['b', 'a'], true],
    ['1 and the string "1"', 1, '1', false],
    ['null and absent', null, undefined, true],
    ['two equal dates', new Date(5), new Date(5), true],
    ['another string', 'unspent', 'spent', false],
  ])('%s', (_label, wanted, value, matches) => {
    expect(matchesEquality(wanted, value)).toBe(matches);
  });
});
