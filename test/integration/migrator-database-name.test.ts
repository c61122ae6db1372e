import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import mongoose from 'mongoose';
import { InvalidOptionError, Migrator, createLogger, folderSource, type MigratorOptions } from '@mongrate/core';
import { serverUri, useTestDatabase, type TestDatabase } from '../support/database.js';
import { FIXTURES } from '../support/migrator.js';
import { uriWithDatabase } from '../support/server.js';

const BASIC = path.join(FIXTURES, 'basic');
const SILENT = /names no database and no `dbName` option was given: the driver would use `test` \(a client option naming `test` cannot be told from that fallback\)\. Put the database in the connection string's path .*or pass `dbName` to the migrator.*Nothing was changed/;

/**
 * A connection string without a database makes the driver use `test` silently: the migrator refuses it before writing,
 * unless `dbName` (or the connection string, the client options or a Mongoose `dbName`/`useDb`) names the database.
 */
describe('the database a migrator works on', () => {
  const database = useTestDatabase(import.meta.filename);
  let t: TestDatabase;
  // State collections of a unique name, so that whatever lands in `test` is this test's and can be removed.
  const prefix = `h_${randomBytes(4).toString('hex')}`;
  const state = { migrationsCollection: `${prefix}_migrations`, historyCollection: `${prefix}_history`, lockCollection: `${prefix}_locks` };
  const options = (extra: Partial<MigratorOptions>): MigratorOptions => ({
    sources: [folderSource(BASIC)],
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error' }),
    ...state,
    ...extra,
  });
  const bare = () => uriWithDatabase(serverUri(), '');
  // Its own client: the test database's is closed by the time the cleanup below runs.
  let admin: MongoClient;
  const inTest = async () =>
    (await admin.db('test').listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => n.startsWith(prefix) || n === 'probe');
  const opened: Array<{ close(): Promise<unknown> }> = [];
  beforeAll(async () => {
    admin = await MongoClient.connect(serverUri(), { serverSelectionTimeoutMS: 10_000 });
  });
  afterAll(async () => {
    await admin.close();
  });
  beforeEach(() => {
    t = database();
  });
  afterEach(async () => {
    for (const c of opened.splice(0)) await c.close().catch(() => undefined);
    for (const name of await inTest()) await admin.db('test').collection(name).drop().catch(() => undefined);
  });

  /** What `up` did with these options: the error it threw, or undefined. */
  async function upWith(make: () => Migrator): Promise<unknown> {
    try {
      await make().up();
      return undefined;
    } catch (error) {
      return error;
    }
  }

  it.each([['/'], [''], ['/?appName=probe']])('refuses a client whose connection string (path %j) names no database, writing nothing', async (tail) => {
    const uri = bare().replace(/\/$/, '') + tail;
    const client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 10_000 });
    opened.push(client);
    const error = await upWith(() => new Migrator(options({ client })));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(SILENT);
    expect(await inTest()).toEqual([]);
  });

  it('runs on such a client with `dbName`, or when the client options name the database', async () => {
    const client = await MongoClient.connect(bare(), { serverSelectionTimeoutMS: 10_000 });
    opened.push(client);
    await new Migrator(options({ client, dbName: t.name })).up();
    expect(await t.db.collection(state.migrationsCollection).countDocuments({ status: 'applied' })).toBe(3);
    // `dbName` is a client option the driver parses (its connection string options) though its types leave it out.
    const named = await MongoClient.connect(bare(), { serverSelectionTimeoutMS: 10_000, ...({ dbName: t.name } as object) });
    opened.push(named);
    expect(await new Migrator(options({ client: named })).pending()).toEqual([]);
    expect(await inTest()).toEqual([]);
  });

  it('takes a connection string that names `test` explicitly', async () => {
    const client = await MongoClient.connect(uriWithDatabase(serverUri(), 'test'), { serverSelectionTimeoutMS: 10_000 });
    opened.push(client);
    const m = new Migrator(options({ client }));
    expect(m.db.databaseName).toBe('test');
    expect(await m.pending()).toHaveLength(3);
  });

  it('Migrator.connect refuses a connection string without a database unless `dbName` is given', async () => {
    const refused = await Migrator.connect(bare(), options({})).then(
      (m) => void opened.push(m),
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(InvalidOptionError);
    expect((refused as Error).message).toMatch(SILENT);
    const m = await Migrator.connect(bare(), options({ dbName: t.name }));
    opened.push(m);
    expect(m.db.databaseName).toBe(t.name);
    expect(await inTest()).toEqual([]);
  });

  it('refuses a Mongoose connection that fell back to `test`, and takes one whose database was chosen', async () => {
    // Mongoose reports `test` as the connection's name when neither the URI nor its `dbName` option names one.
    const silent = await mongoose.createConnection(bare()).asPromise();
    opened.push(silent);
    expect(silent.name).toBe('test');
    const error = await upWith(() => new Migrator(options({ connection: silent })));
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(SILENT);
    expect(await inTest()).toEqual([]);

    expect(new Migrator(options({ connection: silent, dbName: t.name })).db.databaseName).toBe(t.name);
    expect(new Migrator(options({ connection: silent.useDb(t.name) })).db.databaseName).toBe(t.name);
    const chosen = await mongoose.createConnection(bare(), { dbName: t.name }).asPromise();
    opened.push(chosen);
    expect(await new Migrator(options({ connection: chosen })).pending()).toHaveLength(3);
    const explicitTest = await mongoose.createConnection(uriWithDatabase(serverUri(), 'test')).asPromise();
    opened.push(explicitTest);
    expect(new Migrator(options({ connection: explicitTest })).db.databaseName).toBe('test');
  });

  it('refuses a database name MongoDB refuses, from dbName or the connection string, before connecting', async () => {
    const client = new MongoClient(serverUri(), { serverSelectionTimeoutMS: 1000 });
    opened.push(client);
    expect(() => new Migrator(options({ client, dbName: 'a/b' }))).toThrow(/Database name "a\/b" has the character "\/", and MongoDB database names may not contain .*: pass another `dbName`\. Nothing was changed\./);
    expect(() => new Migrator(options({ client, dbName: 'x'.repeat(64) }))).toThrow(/is 64 bytes long; MongoDB allows at most 63/);
    // Nothing answers at this address: refused before the connection is tried (else: not reachable).
    const error = await Migrator.connect('mongodb://127.0.0.1:9/a.b', { ...options({}), clientOptions: { serverSelectionTimeoutMS: 500 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toMatch(/Database name "a\.b" has the character "\.".*fix the database in the connection string, or pass `dbName`/);
  });
});
