import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ObjectId, type Document } from 'mongodb';
import { Migrator, createLogger, folderSource, type MigratorOptions, type RunResult } from '@mongrate/core';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { FIXTURES, testMigrator } from '../support/migrator.js';

const BASIC = path.join(FIXTURES, 'basic');
const EXTRA = path.join(FIXTURES, 'extra');
const FAILING = path.join(FIXTURES, 'failing');
const FAILS_DOWN = path.join(FIXTURES, 'fails-down');
const ids = (ns: string, names: string[]) => names.map((n) => `${ns}/${n}`);
const reverted = (r: RunResult) => r.migrations.map((x) => x.id);

/** Which migration `down` picks, and how often it runs (issue 15, items 7 to 9). */
describe('Migrator targeting', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
  });
  afterEach(async () => {
    await t.drop();
  });

  const downProbes = () => t.db.collection('probe').countDocuments({ direction: 'down' });
  const records = () => t.db.collection('migrations').find({}, { sort: { _id: 1 } }).toArray();
  const multi = (dirs: string[], options: Partial<MigratorOptions> = {}) =>
    new Migrator({ client: t.client, dbName: t.name, sources: dirs.map((d) => folderSource(d)), logger: createLogger({ level: 'error' }), ...options });

  describe('a plain down reverts the last applied migration by recorded finish time', () => {
    it('one source: a migration re-applied last is the one reverted, not the last file', async () => {
      const m = testMigrator(t, BASIC);
      await m.up();
      await m.down({ migration: '002' });
      expect((await m.up()).migrations.map((x) => x.id)).toEqual(ids('basic', ['002_add_wallets']));
      expect(reverted(await m.down())).toEqual(ids('basic', ['002_add_wallets']));
      expect(await m.executed()).toEqual(ids('basic', ['001_create_users', '003_backfill_units']));
    });

    it('two sources: the last applied across sources, and step follows the same order', async () => {
      const m = multi([BASIC, EXTRA]);
      await m.up({ migration: 'extra/001' });
      await m.up();
      expect(reverted(await m.down())).toEqual(ids('basic', ['003_backfill_units']));
      expect(await m.executed()).toEqual([...ids('basic', ['001_create_users', '002_add_wallets']), 'extra/001_extra_step']);
      expect(reverted(await m.down({ step: 2 }))).toEqual(ids('basic', ['002_add_wallets', '001_create_users']));
      expect(reverted(await m.down())).toEqual(['extra/001_extra_step']);
    });

    it('down to X reverts everything applied after X, newest first, then X', async () => {
      const m = multi([BASIC, EXTRA]);
      await m.up({ to: 'basic/002' });
      await m.up({ migration: 'extra/001' });
      await m.up();
      expect(reverted(await m.down({ to: 'basic/002' }))).toEqual(['basic/003_backfill_units', 'extra/001_extra_step', 'basic/002_add_wallets']);
      expect(await m.executed()).toEqual(['basic/001_create_users']);
    });

    it('refuses, naming it, when the last applied migration has no file; nothing is reverted', async () => {
      const dir = path.join(await mkdtemp(path.join(tmpdir(), 'mongrate-target-')), 'basic');
      try {
        await cp(BASIC, dir, { recursive: true });
        await testMigrator(t, dir).up();
        await rm(path.join(dir, '003_backfill_units.ts'));
        const m = testMigrator(t, dir);
        const before = await records();
        for (const options of [{}, { step: 1 }, { to: '002' }, { to: 0 as const }]) {
          const error = await m.down(options).catch((e: unknown) => e);
          expect(error).toMatchObject({ name: 'MigrationFileMissingError', migrationId: 'basic/003_backfill_units' });
          expect((error as Error).message).toMatch(/basic\/003_backfill_units is applied but its file is missing.*[Rr]estore/);
        }
        expect(await records()).toEqual(before);
        expect(await downProbes()).toBe(0);
      } finally {
        await rm(path.dirname(dir), { recursive: true, force: true });
      }
    });

    it.each([
      ['failed', {}],
      ['applying (killed)', { status: 'applying' }],
    ])('a partly applied later migration (%s) is refused with its remedy, not passed over', async (_label, change) => {
      const m = testMigrator(t, FAILING);
      await t.db.collection<{ _id: string }>('switches').insertOne({ _id: 'fail' });
      await expect(m.up()).rejects.toThrow(/simulated failure/);
      if (Object.keys(change).length) await t.db.collection<{ _id: string }>('migrations').updateOne({ _id: 'failing/002_fails_once' }, { $set: change });
      const before = await records();
      for (const options of [{}, { step: 1 }, { to: '001' }, { to: 0 as const }]) {
        const error = await m.down(options).catch((e: unknown) => e);
        expect(error).toMatchObject({ name: 'PartialMigrationError', migrationId: 'failing/002_fails_once' });
        expect((error as Error).message).toMatch(/failing\/002_fails_once is partly applied.*`down` with `migration: "failing\/002_fails_once"`.*`up`/);
      }
      expect(await records()).toEqual(before);
      expect(await m.executed()).toEqual(['failing/001_ok']);
      // The remedy works: revert the partial one by name, then a plain down reverts the one before it.
      expect(reverted(await m.down({ migration: '002' }))).toEqual(['failing/002_fails_once']);
      expect(reverted(await m.down())).toEqual(['failing/001_ok']);
    });

    it('a partly reverted migration is finished first', async () => {
      const m = testMigrator(t, FAILS_DOWN);
      await m.up();
      await t.db.collection<{ _id: string }>('switches').insertOne({ _id: 'fail-down' });
      await expect(m.down({ migration: '002' })).rejects.toThrow(/simulated rollback failure/);
      await t.db.collection<{ _id: string }>('switches').deleteOne({ _id: 'fail-down' });
      expect(reverted(await m.down())).toEqual(['fails-down/002_down_fails_once']);
      expect(await m.executed()).toEqual(['fails-down/001_first', 'fails-down/003_third']);
    });
  });

  describe('down resolves its target under the lock', () => {
    /** Holds the lock as another process would, until `release()`. */
    async function holdLock() {
      const locks = t.db.collection<{ _id: string } & Document>('migration_locks');
      await locks.insertOne({
        _id: 'migrations',
        fence: new ObjectId(),
        owner: { runId: 'r-test', host: 'elsewhere', pid: 4242, user: 'ops' },
        acquiredAt: new Date(),
        expiresAt: new Date(Date.now() + 3600_000),
      });
      return { release: () => locks.deleteOne({ _id: 'migrations' }) };
    }

    /** Starts `down` on each migrator while the lock is held, lets them all wait, then releases it. */
    async function raceDowns(calls: Array<() => Promise<RunResult>>, migrators: Migrator[]) {
      const lock = await holdLock();
      const waiting = migrators.map((m) => new Promise<void>((resolve) => m.once('lock-waiting', () => resolve())));
      const results = calls.map((call) => call().catch((e: unknown) => e));
      await Promise.all(waiting);
      await lock.release();
      return Promise.all(results);
    }

    it('two concurrent plain downs revert one migration, not two', async () => {
      await testMigrator(t, BASIC).up();
      const [a, b] = [testMigrator(t, BASIC, { lockPollMs: 50 }), testMigrator(t, BASIC, { lockPollMs: 50 })];
      const results = (await raceDowns([() => a.down(), () => b.down()], [a, b])) as RunResult[];
      expect(results.map(reverted).sort()).toEqual([[], ids('basic', ['003_backfill_units'])]);
      expect(results.filter((r) => r.nothingToDo)).toHaveLength(1);
      expect(await downProbes()).toBe(1);
      expect(await a.executed()).toEqual(ids('basic', ['001_create_users', '002_add_wallets']));
    });

    it('two concurrent `step: 2` downs revert two migrations, not four', async () => {
      await testMigrator(t, BASIC).up();
      const [a, b] = [testMigrator(t, BASIC, { lockPollMs: 50 }), testMigrator(t, BASIC, { lockPollMs: 50 })];
      const results = (await raceDowns([() => a.down({ step: 2 }), () => b.down({ step: 2 })], [a, b])) as RunResult[];
      expect(results.map(reverted).sort()).toEqual([[], ids('basic', ['003_backfill_units', '002_add_wallets'])]);
      expect(await downProbes()).toBe(2);
      expect(await a.executed()).toEqual(ids('basic', ['001_create_users']));
    });

    it('a down confirmed for X reverts X or nothing', async () => {
      const m = testMigrator(t, BASIC);
      await m.up();
      const confirmed = await m.downPlan();
      expect(confirmed).toEqual(ids('basic', ['003_backfill_units']));
      // Another process reverts X first: nothing more is reverted.
      await testMigrator(t, BASIC).down();
      expect(await m.down({ expect: confirmed })).toMatchObject({ nothingToDo: true, migrations: [] });
      expect(await downProbes()).toBe(1);
      // X is applied again, and then another migration on top of it: X is no longer the last, so nothing is reverted.
      await m.up();
      await m.down({ migration: '002' });
      await m.up();
      const error = await m.down({ expect: confirmed }).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'TargetChangedError' });
      expect((error as Error).message).toMatch(/basic\/003_backfill_units.*basic\/002_add_wallets.*Nothing was rolled back/);
      expect(await downProbes()).toBe(2);
      expect(await m.pending()).toEqual([]);
      // Still the last: it is reverted.
      expect(reverted(await m.down({ expect: ids('basic', ['002_add_wallets']) }))).toEqual(ids('basic', ['002_add_wallets']));
    });
  });

  describe('up --to', () => {
    it('runs earlier pending migrations when the target itself is applied', async () => {
      const m = testMigrator(t, BASIC);
      await m.up();
      await m.down({ migration: '002' });
      expect(await m.pending()).toEqual(ids('basic', ['002_add_wallets']));
      const result = await m.up({ to: '003' });
      expect(result.nothingToDo).toBe(false);
      expect(result.migrations.map((x) => x.id)).toEqual(ids('basic', ['002_add_wallets']));
      expect(await m.pending()).toEqual([]);
      expect((await m.status()).needed).toBe(false);
      expect(await m.up({ to: '003' })).toMatchObject({ nothingToDo: true });
    });
  });
});
