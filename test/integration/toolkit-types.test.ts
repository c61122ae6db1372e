import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { BSONRegExp, Binary, Decimal128, Double, Int32, Long, ObjectId, Timestamp, type Collection, type Document } from 'mongodb';
import { backupAndUpdate, restoreBackups } from '@mongrate/core';
import { collectionHash } from '../support/collection-hash.js';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { toolkitContext } from '../support/toolkit-context.js';

const COLLECTION = 'things';
let t: TestDatabase;
let things: Collection<Document>;
beforeAll(async () => {
  t = await openTestDatabase(import.meta.filename);
  things = t.db.collection(COLLECTION);
});
afterAll(async () => {
  await t.drop();
});

/** Values whose BSON type the driver's default promotion would change (or lose) on a read-modify-write. */
const VALUES: ReadonlyArray<readonly [string, unknown]> = [
  ['double 5.0', new Double(5)],
  ['double -0.0', new Double(-0)],
  ['long 123', Long.fromNumber(123)],
  ['long 2^40', Long.fromNumber(2 ** 40)],
  ['long 2^60', Long.fromString('1152921504606846976')],
  ['int32', new Int32(7)],
  ['decimal', Decimal128.fromString('1.10')],
  ['nested', { a: new Double(1), b: [Long.fromNumber(2), new Double(3), { c: Long.fromNumber(4) }], d: { e: new Double(2.5), f: new Int32(6) } }],
  ['array of doubles', [new Double(1), new Double(2)]],
  ['regex with flags JS lacks', new BSONRegExp('a b', 'imsx')],
  ['binary subtype 4', new Binary(Buffer.from('00112233445566778899aabbccddeeff', 'hex'), 4)],
  ['timestamp', new Timestamp({ t: 1_700_000_000, i: 3 })],
  ['field order', { z: 1, a: 2, m: { y: 1, b: 2 } }],
];

it('up → down restores every backed-up value with its exact BSON type, at any depth (raw bytes compared)', async () => {
  await things.insertMany(
    VALUES.flatMap(([label, value], i) => [
      { _id: `v${i}`, label, kind: 'k', status: 'unspent', value },
      // The same value as a document _id's companion: ids of other types too.
      { _id: new Double(1000 + i + 0.5), label, kind: 'k', status: 'unspent', value },
    ]) as Document[],
  );
  await things.insertOne({ _id: Long.fromNumber(2 ** 40), label: 'long id', kind: 'k', status: 'unspent', value: new Double(9) } as Document);
  const original = await collectionHash(things);
  const ctx = toolkitContext(t.db, t.client, { batchSize: 7 });
  const up = await backupAndUpdate(ctx, {
    collection: COLLECTION,
    filter: { kind: 'k', status: 'unspent' },
    fields: ['status', 'value'],
    set: { status: 'spent', value: 'flipped' },
  });
  expect(up).toMatchObject({ remaining: 0, backedUp: VALUES.length * 2 + 1 });
  expect(await things.countDocuments({ value: 'flipped' })).toBe(VALUES.length * 2 + 1);

  const down = await restoreBackups(toolkitContext(t.db, t.client, { direction: 'down', batchSize: 7 }), { collection: COLLECTION });
  expect(down).toMatchObject({ restored: VALUES.length * 2 + 1, conflicts: 0, alreadyRestored: 0 });
  const exact = await things.findOne({ _id: 'v0' } as Document, { promoteValues: false });
  expect((exact?.value as { _bsontype?: string })._bsontype).toBe('Double');
  expect(await collectionHash(things)).toBe(original);
});

it('the raw hash sees a type change that promoted values hide', async () => {
  const c = t.db.collection('hash_probe');
  await c.insertOne({ _id: new ObjectId(), n: new Double(5) });
  const before = await collectionHash(c);
  await c.updateMany({}, { $set: { n: new Int32(5) } });
  expect(await collectionHash(c)).not.toBe(before);
});
