import { cp, mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import {
  ChecksumDriftError,
  MigrateErrorCode,
  MigrationAlreadyAppliedError,
  MigrationFailedError,
  MigrationLoadError,
  MigrationNotAppliedError,
  MigrationNotFoundError,
  InvalidOptionError,
} from '@mongrate/core';
import { openTestDatabase, serverUri, type TestDatabase } from '../support/database.js';
import { FIXTURES, testMigrator } from '../support/migrator.js';

const BASIC = path.join(FIXTURES, 'basic');
const ids = (names: string[]) => names.map((n) => `basic/${n}`);

describe('Migrator', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
  });
  afterEach(async () => {
    await t.drop();
  });

  const probes = (filter = {}) => t.db.collection('probe').countDocuments(filter);

  it('applies pending migrations in order, records them, and a second up() is a no-op', async () => {
    const m = testMigrator(t, BASIC);
    const first = await m.up();
    expect(first.migrations.map((x) => x.id)).toEqual(ids(['001_create_users', '002_add_wallets', '003_backfill_units']));
    expect(first.migrations.every((x) => x.counts?.runs === 1)).toBe(true);
    const second = await m.up();
    expect(second).toEqual({ direction: 'up', migrations: [], nothingToDo: true });
    expect(await probes()).toBe(3);
    const status = await m.status();
    expect(status.needed).toBe(false);
    const record = status.migrations[0]?.record;
    expect(record).toMatchObject({ status: 'applied', direction: 'up', source: { namespace: 'basic' } });
    expect(record?.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(record?.durationMs).toBeGreaterThanOrEqual(0);
    expect(record?.counts).toEqual({ runs: 1 });
    expect(typeof record?.pid).toBe('number');
    expect((await m.history()).map((h) => h.outcome)).toEqual(['applied', 'applied', 'applied']);
  });

  it('a no-op boot up() costs at most 2 round trips (command monitoring)', async () => {
    await testMigrator(t, BASIC).up();
    const client = await MongoClient.connect(serverUri(), { monitorCommands: true });
    try {
      const commands: string[] = [];
      client.on('commandStarted', (e: CommandStartedEvent) => commands.push(e.commandName));
      const m = testMigrator({ ...t, client }, BASIC);
      await m.load(); // file loading is local work; count only database round trips of up()
      commands.length = 0;
      const result = await m.up();
      expect(result.nothingToDo).toBe(true);
      expect(commands.length).toBeLessThanOrEqual(2);
      expect(commands).toEqual(['find']);
    } finally {
      await client.close();
      }
  });

  it('down reverts the last one by default, then `step`, then `to`', async () => {
    const m = testMigrator(t, BASIC);
    await m.up();
    expect((await m.down()).migrations.map((x) => x.id)).toEqual(ids(['003_backfill_units']));
    expect(await m.pending()).toEqual(ids(['003_backfill_units']));
    await m.up();
    expect((await m.down({ step: 2 })).migrations.map((x) => x.id)).toEqual(ids(['003_backfill_units', '002_add_wallets']));
    await m.up();
    expect((await m.down({ to: '002' })).migrations.map((x) => x.id)).toEqual(ids(['003_backfill_units', '002_add_wallets']));
    expect(await m.executed()).toEqual(ids(['001_create_users']));
    await m.up({ to: '002' });
    expect(await m.executed()).toEqual(ids(['001_create_users', '002_add_wallets']));
    await m.up({ step: 1 });
    expect(await m.pending()).toEqual([]);
    expect((await m.down({ to: 0 })).migrations).toHaveLength(3);
    const status = await m.status();
    expect(status.migrations.map((s) => s.state)).toEqual(['rolled_back', 'rolled_back', 'rolled_back']);
    expect(await probes({ direction: 'down' })).toBe(1 + 2 + 2 + 3);
  });

  it('up of an applied migration throws MigrationAlreadyAppliedError and writes nothing', async () => {
    const m = testMigrator(t, BASIC);
    await m.up();
    const before = await t.db.collection('migrations').find().toArray();
    const error = await m.up({ migration: '002' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationAlreadyAppliedError);
    expect((error as Error).message).toMatch(/already completed.*roll it back first/);
    expect(await t.db.collection('migrations').find().toArray()).toEqual(before);
    expect(await probes()).toBe(3);
  });

  it('a failed migration is recorded (credentials redacted) and can be retried', async () => {
    const m = testMigrator(t, path.join(FIXTURES, 'failing'));
    await t.db.collection<{ _id: string }>('switches').insertOne({ _id: 'fail' });
    const error = await m.up().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(error).toMatchObject({ migrationId: 'failing/002_fails_once', direction: 'up', code: MigrateErrorCode.MigrationFailed });
    const record = await t.db.collection('migrations').findOne({ _id: 'failing/002_fails_once' as never });
    expect(record).toMatchObject({ status: 'failed', direction: 'up' });
    expect(record?.error).toContain('simulated failure');
    expect(JSON.stringify(record)).not.toContain('hunter2');
    expect(await m.pending()).toEqual(['failing/002_fails_once']);
    await t.db.collection<{ _id: string }>('switches').deleteOne({ _id: 'fail' });
    const retried = await m.up();
    expect(retried.migrations.map((x) => x.id)).toEqual(['failing/002_fails_once']);
    const history = await m.history({ migration: '002' });
    expect(history.map((h) => h.outcome)).toEqual(['applied', 'failed']);
    expect(JSON.stringify(history)).not.toContain('hunter2');
  });

  it('down with nothing applied, and unknown targets, fail clearly and write nothing', async () => {
    const m = testMigrator(t, BASIC);
    await expect(m.down()).rejects.toBeInstanceOf(MigrationNotAppliedError);
    await expect(m.down({ migration: '002' })).rejects.toThrow(/basic\/002_add_wallets is not applied/);
    await expect(m.up({ migration: '042' })).rejects.toBeInstanceOf(MigrationNotFoundError);
    await expect(m.up({ to: 'nope' })).rejects.toThrow(/No migration matches "nope"/);
    await expect(m.up({ step: 0 })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(m.up({ step: 1, to: '002' })).rejects.toThrow(/cannot be combined/);
    expect(await t.db.listCollections().toArray()).toEqual([]);
  });

  it.each([
    ['dup', /Duplicate migration number 001/],
    ['no-down', /must export functions `up` and `down`/],
    ['broken', /failed to load/],
    ['badname', /misnamed/],
  ])('rejects the %s fixture before anything runs', async (dir, message) => {
    const m = testMigrator(t, path.join(FIXTURES, dir));
    const error = await m.up().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationLoadError);
    expect((error as Error).message).toMatch(message);
    expect(await t.db.listCollections().toArray()).toEqual([]);
  });

  describe('drift', () => {
    let dir: string;
    beforeAll(async () => {
      dir = path.join(await mkdtemp(path.join(tmpdir(), 'mongrate-drift-')), 'basic');
    });
    afterAll(async () => {
      await rm(path.dirname(dir), { recursive: true, force: true });
    });

    it('verify reports changed and missing files; up refuses unless drift is allowed', async () => {
      await cp(BASIC, dir, { recursive: true });
      await testMigrator(t, dir).up();
      await appendFile(path.join(dir, '001_create_users.ts'), '\n// edited after it ran\n');
      await rm(path.join(dir, '002_add_wallets.ts'));
      await writeFile(path.join(dir, '004_new_step.ts'), "export const up = async () => ({ n: 1 });\nexport const down = async () => undefined;\n");
      const m = testMigrator(t, dir);
      const report = await m.verify();
      expect(report.ok).toBe(false);
      expect(report.drift.map((d) => [d.id, d.kind])).toEqual([
        ['basic/001_create_users', 'changed'],
        ['basic/002_add_wallets', 'missing'],
      ]);
      const error = await m.up().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChecksumDriftError);
      expect(await m.pending()).toEqual(['basic/004_new_step']);
      const forced = await m.up({ allowDrift: true });
      expect(forced.migrations.map((x) => x.id)).toEqual(['basic/004_new_step']);
      });
  });
});
