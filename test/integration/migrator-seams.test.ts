import path from 'node:path';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { InvalidOptionError, MongoMigrationStorage, type MigrationLock, type MigrationStorage } from '@mongrate/core';
import { serverUri, useTestDatabase, type TestDatabase } from '../support/database.js';
import { FIXTURES, testMigrator } from '../support/migrator.js';

const BASIC = path.join(FIXTURES, 'basic');

/** The Migrator's seams (issue 14): one read of the records before the lock and one under it, an app's own storage and lock. */
describe('Migrator seams', () => {
  const database = useTestDatabase(import.meta.filename);
  let t: TestDatabase;
  beforeEach(() => {
    t = database();
  });

  /** Reads of the whole records collection (a `find` without a filter) during `run`, counted by command monitoring. */
  async function recordReads(run: (client: MongoClient) => Promise<unknown>): Promise<number> {
    const client = await MongoClient.connect(serverUri(), { monitorCommands: true });
    try {
      let reads = 0;
      client.on('commandStarted', (e: CommandStartedEvent) => {
        const command = e.command as { find?: unknown; filter?: object };
        if (e.commandName === 'find' && e.databaseName === t.name && command.find === 'migrations' && Object.keys(command.filter ?? {}).length === 0) reads++;
      });
      await run(client);
      return reads;
    } finally {
      await client.close();
    }
  }

  it('a plain up() reads the applied set once before the lock and once under it; so does up({ to })', async () => {
    expect(await recordReads((client) => testMigrator({ ...t, client }, BASIC).up())).toBe(2);
    await testMigrator(t, BASIC).down({ to: 0 });
    expect(await recordReads((client) => testMigrator({ ...t, client }, BASIC).up({ to: '002' }))).toBe(2);
    expect(await testMigrator(t, BASIC).pending()).toEqual(['basic/003_backfill_units']);
  });

  it('an app may pass its own storage: every record read and write goes through it', async () => {
    const inner = new MongoMigrationStorage({ db: t.db, collection: 'app_records', historyCollection: 'app_history' });
    const calls: string[] = [];
    const storage: MigrationStorage = {
      records: () => (calls.push('records'), inner.records()),
      begin: (a) => (calls.push('begin'), inner.begin(a)),
      saveCheckpoint: (id, fence, value) => (calls.push('saveCheckpoint'), inner.saveCheckpoint(id, fence, value)),
      finish: (id, fence, outcome, details) => (calls.push(`finish:${outcome}`), inner.finish(id, fence, outcome, details)),
      history: (filter) => (calls.push('history'), inner.history(filter)),
      amend: (id, amendment) => (calls.push('amend'), inner.amend(id, amendment)),
    };
    const m = testMigrator(t, BASIC, { storage });
    expect((await m.up()).migrations).toHaveLength(3);
    expect(calls.filter((c) => c === 'begin')).toHaveLength(3);
    expect(calls.filter((c) => c === 'finish:applied')).toHaveLength(3);
    expect(await m.pending()).toEqual([]);
    expect((await m.history()).map((h) => h.outcome)).toEqual(['applied', 'applied', 'applied']);
    expect(await t.db.collection('app_records').countDocuments()).toBe(3);
    expect(await t.db.collection('migrations').countDocuments()).toBe(0);
    expect(await t.db.collection('migration_history').countDocuments()).toBe(0);
  });

  it('an app may pass its own lock: up and down take it, and no lease document is written', async () => {
    const events: string[] = [];
    const lock: MigrationLock = {
      acquire: async () => {
        events.push('acquire');
        return {
          fence: 'app-fence',
          holder: { runId: 'app', host: 'app-host', pid: 1 },
          lost: false,
          assertHeld: () => undefined,
          release: async () => void events.push('release'),
        };
      },
      inspect: async () => undefined,
      unlock: async () => ({ removed: false }),
    };
    const m = testMigrator(t, BASIC, { lock });
    await m.up();
    await m.down();
    expect(events).toEqual(['acquire', 'release', 'acquire', 'release']);
    expect(await t.db.collection('migration_locks').countDocuments()).toBe(0);
    expect((await t.db.collection('migrations').findOne({ _id: 'basic/001_create_users' as never }))?.fence).toBe('app-fence');
  });

  it.each([
    ['leaseMs: 0', { leaseMs: 0 }, /leaseMs must be from 1000 to 86400000 \(one day; got 0\)/],
    ['lockPollMs: 0', { lockPollMs: 0 }, /pollMs must be more than 0 \(got 0\)/],
  ])('rejects %s as an invalid option rather than falling back to the default', (_label, options, message) => {
    expect(() => testMigrator(t, BASIC, options)).toThrow(InvalidOptionError);
    expect(() => testMigrator(t, BASIC, options)).toThrow(message);
  });
});
