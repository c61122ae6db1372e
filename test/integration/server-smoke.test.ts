import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient, MongoServerError } from 'mongodb';
import mongoose from 'mongoose';
import { openTestDatabase, serverUri, type TestDatabase } from '../support/database.js';

// What the framework relies on, checked against the real server.
describe('server smoke', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(import.meta.filename);
  });
  afterAll(async () => {
    await t.drop();
  });

  it('connects through Mongoose, inserts and finds', async () => {
    const conn = await mongoose.createConnection(t.uri).asPromise();
    try {
      const Thing = conn.model('Thing', new mongoose.Schema({ name: String, n: Number }));
      await Thing.create({ name: 'a', n: 1 });
      const found = await Thing.findOne({ name: 'a' }).lean();
      expect(found?.n).toBe(1);
    } finally {
      await conn.close();
    }
  });

  it('rejects a duplicate insert into a unique index with code 11000', async () => {
    const c = t.db.collection('uniq');
    await c.createIndex({ key: 1 }, { unique: true });
    await c.insertOne({ key: 'k' });
    const error = await c.insertOne({ key: 'k' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(11000);
  });

  it('findOneAndUpdate with upsert inserts, then updates', async () => {
    const c = t.db.collection<{ _id: string; v: number }>('upsert');
    const first = await c.findOneAndUpdate({ _id: 'x' }, { $inc: { v: 1 } }, { upsert: true, returnDocument: 'after' });
    const second = await c.findOneAndUpdate({ _id: 'x' }, { $inc: { v: 1 } }, { upsert: true, returnDocument: 'after' });
    expect(first?.v).toBe(1);
    expect(second?.v).toBe(2);
  });

  it('unordered bulkWrite continues past a duplicate', async () => {
    const c = t.db.collection<{ _id: number }>('bulk');
    await c.insertOne({ _id: 2 });
    const error = await c
      .bulkWrite([1, 2, 3, 4].map((i) => ({ insertOne: { document: { _id: i } } })), { ordered: false })
      .catch((e: unknown) => e);
    expect((error as MongoServerError).code).toBe(11000);
    expect(await c.countDocuments()).toBe(4);
  });

  it('aggregates with $match and $group', async () => {
    const c = t.db.collection('agg');
    await c.insertMany([
      { user: 'a', kind: 'x', sats: 5 },
      { user: 'a', kind: 'x', sats: 7 },
      { user: 'b', kind: 'x', sats: 1 },
      { user: 'b', kind: 'y', sats: 100 },
    ]);
    const rows = await c
      .aggregate<{ _id: string; sats: number; n: number }>([
        { $match: { kind: 'x' } },
        { $group: { _id: '$user', sats: { $sum: '$sats' }, n: { $sum: 1 } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    expect(rows).toEqual([
      { _id: 'a', sats: 12, n: 2 },
      { _id: 'b', sats: 1, n: 1 },
    ]);
  });

  it('20 concurrent clients × 10 $inc end at 200', async () => {
    await t.db.collection('counter').insertOne({ _id: 'c' as never, n: 0 });
    const clients = await Promise.all(Array.from({ length: 20 }, () => MongoClient.connect(serverUri())));
    try {
      await Promise.all(
        clients.map(async (client) => {
          const c = client.db(t.name).collection<{ _id: string; n: number }>('counter');
          for (let i = 0; i < 10; i++) await c.updateOne({ _id: 'c' }, { $inc: { n: 1 } });
        }),
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    const doc = await t.db.collection<{ _id: string; n: number }>('counter').findOne({ _id: 'c' });
    expect(doc?.n).toBe(200);
  });
});
