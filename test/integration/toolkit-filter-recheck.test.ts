import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { BSONSymbol, Decimal128, Double, Int32, Long, type Collection, type Document } from 'mongodb';
import { InvalidOptionError, backupAndUpdate, restoreBackups } from '@mongrate/core';
import { collectionHash } from '../support/collection-hash.js';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { interceptDb, toolkitContext } from '../support/toolkit-context.js';

/**
 * The conditional update re-checks the filter by "the document still holds exactly what it held when it matched".
 * That holds only for filters that decide by value; these are the cases where a filter decides by something the
 * exact comparison does not see (found by an adversarial pass), and a `set` that does not leave the filter.
 */
describe('backupAndUpdate: the filter is re-checked on every write', () => {
  let t: TestDatabase;
  let items: Collection<Document>;
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
    items = t.db.collection('items');
  });
  afterEach(async () => {
    await t.drop();
  });

  /** Runs `up` with the app changing document 0 after the first batch's backups, before its write. */
  const upWithAppChange = async (filter: Document, change: Document) => {
    const appWrites = interceptDb(t.db, [
      {
        collection: 'migration_backups',
        method: 'insertMany',
        after: async (call) => {
          if (call === 1) await items.updateOne({ _id: 0 } as Document, { $set: change });
        },
      },
    ]);
    return backupAndUpdate(toolkitContext(t.db, t.client, { db: appWrites, batchSize: 3, concurrency: 1 }), { collection: 'items', filter, fields: ['status'], set: { status: 'spent' } });
  };

  it('a regular-expression filter: a tag turned into a symbol (no longer matched on DocumentDB) is not written', async () => {
    await items.insertMany(Array.from({ length: 6 }, (_, i) => ({ _id: i, status: 'unspent', meta: { tag: 'abc' } })) as Document[]);
    const filter = { status: 'unspent', 'meta.tag': { $regex: '^abc$' } };
    const up = await upWithAppChange(filter, { 'meta.tag': new BSONSymbol('abc') });
    // A filter with a regular expression is the query of each write (the conditional update cannot re-check it).
    expect(up.writePath).toBe('bulk-update');
    const stillMatches = (await items.countDocuments({ _id: 0, 'meta.tag': { $regex: '^abc$' } } as Document)) === 1;
    // Whatever the server says of a symbol, document 0 is spent only if it still matches the regular expression.
    expect((await items.findOne({ _id: 0 } as Document))?.status).toBe(stillMatches ? 'spent' : 'unspent');
    expect(up).toMatchObject({ remaining: 0, skipped: stillMatches ? 0 : 1, backedUp: stillMatches ? 6 : 5 });
  });

  it('a bit test: a Decimal turned into the Double of the same value is written only if it still matches', async () => {
    await items.insertMany(Array.from({ length: 6 }, (_, i) => ({ _id: i, status: 'unspent', n: { x: Decimal128.fromString('5.5') } })) as Document[]);
    const filter = { status: 'unspent', 'n.x': { $bitsAllSet: 1 } };
    const up = await upWithAppChange(filter, { 'n.x': new Double(5.5) });
    expect(up.writePath).toBe('bulk-update');
    const stillMatches = (await items.countDocuments({ _id: 0, 'n.x': { $bitsAllSet: 1 } } as Document)) === 1;
    expect((await items.findOne({ _id: 0 } as Document))?.status).toBe(stillMatches ? 'spent' : 'unspent');
  });

  it('a filter-only field changed by value is seen by the conditional update: the document is left as it is', async () => {
    await items.insertMany(Array.from({ length: 6 }, (_, i) => ({ _id: i, status: 'unspent', kind: new Int32(1) })) as Document[]);
    const up = await upWithAppChange({ status: 'unspent', kind: { $lte: 1 } }, { kind: new Int32(2) });
    expect(up).toMatchObject({ writePath: 'conditional-update', skipped: 1, backedUp: 5, remaining: 0 });
    expect((await items.findOne({ _id: 0 } as Document))?.status).toBe('unspent');
  });

  it.each([
    ['the query path (a regular expression in the filter)', { st: 'old', name: /^n/ }, 'bulk-update'],
    ['the conditional update', { st: 'old', name: 'n1' }, 'conditional-update'],
  ])('on %s a written number keeps the exact form set gives it, and down restores byte for byte', async (_label, filter, path) => {
    // FerretDB's `$set` operator keeps a stored number's form when the new value is numerically equal.
    await items.insertOne({ _id: 1, st: 'old', name: 'n1', d: Decimal128.fromString('1.0'), z: new Double(-0) } as Document);
    const seed = await collectionHash(items);
    const set = { st: 'new', d: Decimal128.fromString('1.00'), z: new Double(0) };
    const runAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const up = await backupAndUpdate(toolkitContext(t.db, t.client, { runAt }), { collection: 'items', filter, fields: ['st', 'd', 'z'], set });
    expect(up).toMatchObject({ writePath: path, updated: 1 });
    const written = await items.aggregate([{ $project: { d: { $toString: '$d' }, z: { $toString: '$z' } } }]).toArray();
    expect(written).toEqual([{ _id: 1, d: '1.00', z: '0' }]);
    expect(await restoreBackups(toolkitContext(t.db, t.client, { runAt, direction: 'down' }), { collection: 'items' })).toMatchObject({ restored: 1, conflicts: 0 });
    expect(await collectionHash(items)).toBe(seed);
  });

  it.each([
    ['the same number as a Long', { v: 1 }, { v: Long.fromNumber(1) }],
    ['the same number as a Double', { v: 1 }, { v: new Double(1) }],
    ['an array holding the value', { v: 'a' }, { v: ['a', 'b'] }],
    ['a symbol of the string', { v: 'a' }, { v: new BSONSymbol('a') }],
  ])('a set that does not leave the filter (%s) is refused before anything is written', async (_label, filter, set) => {
    await items.insertMany(Array.from({ length: 4 }, (_, i) => ({ _id: i, v: filter.v })) as Document[]);
    const before = await collectionHash(items);
    const error = await backupAndUpdate(toolkitContext(t.db, t.client), { collection: 'items', filter, fields: ['v'], set }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(String(error)).toMatch(/stop matching/);
    expect(await collectionHash(items)).toBe(before);
    expect(await t.db.collection('migration_backups').countDocuments()).toBe(0);
  });
});
