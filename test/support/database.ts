import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach } from '@jest/globals';
import path from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { uriWithDatabase } from './server.js';

/** The server URI chosen by the global setup. */
export function serverUri(): string {
  const uri = process.env.MONGRATE_TEST_URI;
  if (!uri) throw new Error('MONGRATE_TEST_URI is not set: integration tests must run through jest (test/support/global-setup.ts).');
  return uri;
}

export interface TestDatabase {
  readonly client: MongoClient;
  readonly db: Db;
  readonly name: string;
  /** The server URI with this database's name in its path. */
  readonly uri: string;
  drop(): Promise<void>;
}

/** A database of its own for one test file (or test), so parallel workers never collide. */
export async function openTestDatabase(label: string): Promise<TestDatabase> {
  const base = path.basename(label).replace(/\.test\.ts$/, '').replace(/[^a-z0-9]/gi, '_').slice(0, 24);
  const name = `t_${base}_${randomBytes(4).toString('hex')}`;
  const client = await MongoClient.connect(serverUri(), { serverSelectionTimeoutMS: 10_000 });
  const db = client.db(name);
  return {
    client,
    db,
    name,
    uri: uriWithDatabase(serverUri(), name),
    drop: async () => {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    },
  };
}

/** A fresh database per test of the calling file (opened before each, dropped after); read it inside tests. */
export function useTestDatabase(label: string): () => TestDatabase {
  let current: TestDatabase | undefined;
  beforeEach(async () => {
    current = await openTestDatabase(label);
  });
  afterEach(async () => {
    await current?.drop();
    current = undefined;
  });
  return () => {
    if (!current) throw new Error('useTestDatabase: read the database inside a test');
    return current;
  };
}
