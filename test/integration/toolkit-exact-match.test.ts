import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BSONSymbol, Decimal128, Double, Int32, Long, ObjectId, Timestamp, type Collection, type Document } from 'mongodb';
import { EXACT_READ, exactExpression, exactMatch } from '../../packages/core/src/toolkit/backup-document.js';
import { ConditionalUpdates } from '../../packages/core/src/toolkit/conditional-update.js';
import { openTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * The compare-and-set behind every toolkit write: `exactMatch` must hold for exactly the value a backup recorded and
 * for no other value an application could have written in between, on the real server.
 */
let t: TestDatabase;
let docs: Collection<Document>;
beforeAll(async () => {
  t = await openTestDatabase(import.meta.filename);
  docs = t.db.collection('values');
});
afterAll(async () => {
  await t.drop();
});

const DATE = new Date('2026-01-02T03:04:05.678Z');
const OID = new ObjectId('65a1b2c3d4e5f60718293a4b');
/** [label, value stored, expected (as a backup holds it), should match]; `undefined` as stored means "field absent". */
const CASES: ReadonlyArray<readonly [string, unknown, unknown, boolean]> = [
  ['same string', 'unspent', 'unspent', true],
  ['another string', 'pending', 'unspent', false],
  ['an array holding the value', ['unspent'], 'unspent', false],
  ['int32 5 against double 5.0', new Int32(5), new Double(5), false],
  ['double 5.0 against int32 5', new Double(5), new Int32(5), false],
  ['long 5 against int32 5', Long.fromNumber(5), new Int32(5), false],
  ['decimal 5 against int32 5', Decimal128.fromString('5'), new Int32(5), false],
  ['same int32', new Int32(5), new Int32(5), true],
  ['decimal 1.00 against decimal 1.0', Decimal128.fromString('1.00'), Decimal128.fromString('1.0'), false],
  ['decimal -0 against decimal 0', Decimal128.fromString('-0'), Decimal128.fromString('0'), false],
  ['decimal 1E+1 against decimal 10', Decimal128.fromString('1E+1'), Decimal128.fromString('10'), false],
  ['same decimal', Decimal128.fromString('5.25'), Decimal128.fromString('5.25'), true],
  ['double -0 against double 0', new Double(-0), new Double(0), false],
  ['double 0 against double -0', new Double(0), new Double(-0), false],
  ['same double', new Double(0.1), new Double(0.1), true],
  ['null against null', null, null, true],
  ['absent against null', undefined, null, false],
  ['same date', DATE, DATE, true],
  ['another date', new Date(DATE.getTime() + 1), DATE, false],
  ['date against its milliseconds', DATE.getTime(), DATE, false],
  ['same object', { a: new Int32(1), b: 'x' }, { a: new Int32(1), b: 'x' }, true],
  ['object with fields reordered', { b: 'x', a: new Int32(1) }, { a: new Int32(1), b: 'x' }, false],
  ['same array', [new Int32(1), 'x'], [new Int32(1), 'x'], true],
  ['boolean true against 1', new Int32(1), true, false],
  // Values go into the expression as constants where the server cannot read them as expressions: a string starting
  // with `$` must still be compared as a string, never as the field path it spells.
  ['same string starting with $', '$unspent', '$unspent', true],
  ['a string spelling this field path, against the value there', 'x', '$field', false],
  ['a string spelling another field path, against the value there', new Int32(1), '$other', false],
  ['same object holding a string starting with $', { a: '$field' }, { a: '$field' }, true],
  ['same ObjectId', OID, OID, true],
  ['ObjectId against its hex string', OID.toHexString(), OID, false],
  ['same long', Long.fromNumber(5), Long.fromNumber(5), true],
  ['same timestamp', new Timestamp({ t: 5, i: 1 }), new Timestamp({ t: 5, i: 1 }), true],
  ['timestamp against another', new Timestamp({ t: 5, i: 2 }), new Timestamp({ t: 5, i: 1 }), false],
  ['symbol against the string', new BSONSymbol('unspent'), 'unspent', false],
];

describe('exactMatch on the server', () => {
  it.each(CASES)('%s', async (label, stored, expected, matches) => {
    const _id = `case:${label}`;
    await docs.insertOne(stored === undefined ? { _id, other: 1 } : ({ _id, other: 1, field: stored } as Document));
    expect(await docs.countDocuments({ _id, ...exactMatch({ field: expected }) } as Document)).toBe(matches ? 1 : 0);
  });

  it('a field listed as missing matches only when it is absent, never when it holds null', async () => {
    await docs.insertMany([{ _id: 'absent', other: 1 }, { _id: 'null', other: 1, gone: null }] as Document[]);
    const condition = exactMatch({ other: new Int32(1) }, ['gone']);
    expect((await docs.find({ _id: { $in: ['absent', 'null'] }, ...condition } as Document).toArray()).map((d) => d._id)).toEqual(['absent']);
  });
});

describe('exactExpression in an update pipeline (the conditional update)', () => {
  // The update finds the document by `_id` alone and sets a field only where the expression holds; the server must
  // count a document left as it is as not modified, since that count is how `backupAndUpdate` learns what it wrote.
  it.each(CASES)('%s', async (label, stored, expected, matches) => {
    const _id = `update:${label}`;
    await docs.insertOne(stored === undefined ? { _id, other: 1 } : ({ _id, other: 1, field: stored } as Document));
    const before = await docs.findOne({ _id } as Document);
    const result = await docs.updateOne({ _id } as Document, [{ $set: { written: { $cond: [exactExpression({ field: expected }), true, '$written'] } } }]);
    expect(result.modifiedCount).toBe(matches ? 1 : 0);
    expect(await docs.findOne({ _id } as Document)).toEqual(matches ? { ...before, written: true } : before);
  });
});

describe('ConditionalUpdates writes its values exactly', () => {
  it('stores each value of `set` as it is, a string starting with $ included, and only where the condition holds', async () => {
    const set = { s: '$other', o: { a: '$other', b: new Int32(2) }, d: new Double(1.5), l: Long.fromNumber(7), id: OID, at: DATE, arr: ['$other', new Int32(1)] };
    await docs.insertMany([{ _id: 'cu:match', other: 'before' }, { _id: 'cu:changed', other: 'after' }] as Document[]);
    const updates = new ConditionalUpdates();
    const result = await docs.bulkWrite([updates.update('cu:match', { other: 'before' }, [], set), updates.update('cu:changed', { other: 'before' }, [], set)]);
    expect(result.modifiedCount).toBe(1);
    expect(await docs.findOne({ _id: 'cu:match' } as Document, EXACT_READ)).toEqual({ _id: 'cu:match', other: 'before', ...set, d: new Double(1.5), l: Long.fromNumber(7) });
    expect(await docs.findOne({ _id: 'cu:changed' } as Document)).toEqual({ _id: 'cu:changed', other: 'after' });
  });
});
