import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { openTestDatabase, serverUri, type TestDatabase } from '../support/database.js';
import { FIXTURES, testMigrator } from '../support/migrator.js';

const STATE = new Set(['migrations', 'migration_history', 'migration_locks']);

/** The collection a CRUD command addresses, if any. */
function target(event: CommandStartedEvent): string | undefined {
  const name = event.command[event.commandName];
  return typeof name === 'string' ? name : undefined;
}

describe('state collections on a client with other defaults', () => {
  let t: TestDatabase;
  let app: MongoClient;
  const seen: CommandStartedEvent[] = [];
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
    // An app's client that prefers secondaries and acknowledges w:1: state must not follow it.
    const url = new URL(serverUri());
    url.searchParams.set('readPreference', 'secondaryPreferred');
    url.searchParams.set('w', '1');
    url.searchParams.set('readConcernLevel', 'local');
    app = new MongoClient(url.toString(), { monitorCommands: true });
    app.on('commandStarted', (e) => seen.push(e));
    await app.connect();
  });
  afterEach(async () => {
    seen.length = 0;
    await app.close();
    await t.drop();
  });

  it('the server accepts majority/journaled writes and majority reads on every lease, record, history and checkpoint operation', async () => {
    const m = testMigrator(t, path.join(FIXTURES, 'basic'), { client: app });
    const result = await m.up();
    expect(result.migrations).toHaveLength(3);
    await m.down();
    await m.status();
    const state = seen.filter((e) => STATE.has(target(e) ?? ''));
    const writes = state.filter((e) => ['insert', 'update', 'delete', 'findAndModify'].includes(e.commandName));
    const reads = state.filter((e) => ['find', 'aggregate', 'count'].includes(e.commandName));
    expect(writes.length).toBeGreaterThan(6);
    expect(reads.length).toBeGreaterThan(2);
    for (const e of writes) expect(e.command.writeConcern).toMatchObject({ w: 'majority', j: true });
    for (const e of reads) expect(e.command.readConcern).toEqual({ level: 'majority' });
    // Data written by the migrations themselves keeps the client's settings.
    const data = seen.filter((e) => target(e) === 'probe' && e.commandName === 'insert');
    expect(data.length).toBeGreaterThan(0);
    for (const e of data) expect(e.command.writeConcern).toMatchObject({ w: 1 });
  });
});
