import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { LockLostError, MigrationStatus, newRunIdentity, type BeginAttempt, type MigrationStorage } from '@mongrate/core';

/** What every MigrationStorage adapter must do. `create` makes a storage on shared state for one test. */
export interface StorageFactory {
  setup(): Promise<void>;
  create(): MigrationStorage;
  teardown(): Promise<void>;
}

const ID = 'ns/001_first';
const identity = newRunIdentity();
const attempt = (fence: string, overrides: Partial<BeginAttempt> = {}): BeginAttempt => ({
  id: ID,
  direction: 'up',
  checksum: 'c'.repeat(64),
  source: { namespace: 'ns', version: '1.2.3' },
  identity,
  fence,
  ...overrides,
});

export function describeMigrationStorageContract(name: string, factory: StorageFactory): void {
  describe(`MigrationStorage contract: ${name}`, () => {
    beforeEach(() => factory.setup());
    afterEach(() => factory.teardown());

    it('begin starts a record under a fence with server times and the run identity; records() returns it to the caller', async () => {
      const storage = factory.create();
      expect(await storage.records()).toEqual([]);
      const before = Date.now();
      const record = await storage.begin(attempt('fence-a'));
      expect(record).toMatchObject({ _id: ID, status: MigrationStatus.applying, direction: 'up', fence: 'fence-a', runId: identity.runId, pid: process.pid });
      expect(record.runAt).toEqual(record.startedAt);
      // Server time, not ours: allow for skew between this host and the server, but it is a time of this run.
      expect(Math.abs(record.startedAt.getTime() - before)).toBeLessThan(10 * 60_000);
      const first = await storage.records();
      const second = await storage.records();
      expect(first).toHaveLength(1);
      expect(first[0]).toMatchObject({ _id: ID, status: 'applying', checksum: attempt('x').checksum, source: { namespace: 'ns', version: '1.2.3' } });
      expect(second).toEqual(first);
      expect(second).not.toBe(first);
    });

    it('a checkpoint is fenced, left out of records(), and handed back when the same direction resumes', async () => {
      const storage = factory.create();
      const first = await storage.begin(attempt('fence-a'));
      expect(first.checkpoint).toBeUndefined();
      await storage.saveCheckpoint(ID, 'fence-a', { lastId: 42 });
      await expect(storage.saveCheckpoint(ID, 'fence-stale', { lastId: 99 })).rejects.toBeInstanceOf(LockLostError);
      expect((await storage.records())[0]?.checkpoint).toBeUndefined();
      await storage.finish(ID, 'fence-a', 'interrupted', { error: 'stopped' });
      const resumed = await storage.begin(attempt('fence-b'));
      expect(resumed.checkpoint).toEqual({ lastId: 42 });
      expect(resumed.runAt).toEqual(first.runAt);
      expect(resumed.fence).toBe('fence-b');
      // The other direction starts afresh.
      await storage.finish(ID, 'fence-b', 'applied', { counts: { n: 1 } });
      const down = await storage.begin(attempt('fence-c', { direction: 'down' }));
      expect(down).toMatchObject({ status: MigrationStatus.reverting, direction: 'down' });
      expect(down.checkpoint).toBeUndefined();
      expect(down.counts).toBeUndefined();
    });

    it('finish writes the outcome and appends one history entry; an interrupt is stored failed and told apart in history', async () => {
      const storage = factory.create();
      await storage.begin(attempt('fence-a'));
      await storage.finish(ID, 'fence-a', 'interrupted', { error: 'stopped at a batch boundary' });
      expect((await storage.records())[0]).toMatchObject({ status: MigrationStatus.failed, error: 'stopped at a batch boundary' });
      await storage.begin(attempt('fence-b'));
      expect((await storage.records())[0]?.error).toBeUndefined();
      await storage.finish(ID, 'fence-b', 'applied', { counts: { flipped: 3 } });
      const [record] = await storage.records();
      expect(record).toMatchObject({ status: MigrationStatus.applied, counts: { flipped: 3 } });
      expect(record?.appliedAt).toBeInstanceOf(Date);
      expect(record?.durationMs).toBeGreaterThanOrEqual(0);
      const history = await storage.history();
      expect(history.map((h) => h.outcome)).toEqual(['applied', 'interrupted']);
      expect(history[0]).toMatchObject({ migrationId: ID, direction: 'up', counts: { flipped: 3 }, runId: identity.runId });
      expect(history[1]).toMatchObject({ error: 'stopped at a batch boundary' });
    });

    it('a finish under a stale fence throws LockLostError and writes nothing', async () => {
      const storage = factory.create();
      await storage.begin(attempt('fence-a'));
      await storage.begin(attempt('fence-b'));
      await expect(storage.finish(ID, 'fence-a', 'applied', {})).rejects.toBeInstanceOf(LockLostError);
      expect((await storage.records())[0]).toMatchObject({ status: MigrationStatus.applying, fence: 'fence-b' });
      expect(await storage.history()).toEqual([]);
    });

    it('racing begins each win or throw LockLostError, and only the fence the record ends with can finish it', async () => {
      // `begin` runs under the lock, so a later lease taking the record over is allowed; two writers at once are not.
      const storages = Array.from({ length: 4 }, () => factory.create());
      const results = await Promise.allSettled(storages.map((s, i) => s.begin(attempt(`fence-${i}`))));
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockLostError);
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`fence-${i}`] : []));
      expect(winners.length).toBeGreaterThanOrEqual(1);
      const records = await storages[0]!.records();
      expect(records).toHaveLength(1);
      const holder = records[0]!.fence!;
      expect(winners).toContain(holder);
      for (const fence of winners.filter((f) => f !== holder)) {
        await expect(storages[0]!.finish(ID, fence, 'applied', {})).rejects.toBeInstanceOf(LockLostError);
      }
      await storages[0]!.finish(ID, holder, 'applied', {});
      expect((await storages[0]!.history()).map((h) => h.outcome)).toEqual(['applied']);
    });

    it('history filters by migration and limits, newest first', async () => {
      const storage = factory.create();
      for (const [i, id] of ['ns/001_a', 'ns/002_b', 'ns/001_a'].entries()) {
        await storage.begin(attempt(`f${i}`, { id, direction: i === 2 ? 'down' : 'up' }));
        await storage.finish(id, `f${i}`, i === 2 ? 'rolled_back' : 'applied', {});
      }
      expect((await storage.history()).map((h) => `${h.migrationId}:${h.outcome}`)).toEqual(['ns/001_a:rolled_back', 'ns/002_b:applied', 'ns/001_a:applied']);
      expect((await storage.history({ migrationId: 'ns/001_a' })).map((h) => h.outcome)).toEqual(['rolled_back', 'applied']);
      expect(await storage.history({ limit: 1 })).toHaveLength(1);
      expect((await storage.records()).find((r) => r._id === 'ns/001_a')).toMatchObject({ status: MigrationStatus.rolledBack, direction: 'down' });
    });

    it('amend creates or changes a record without an attempt, keeps what it does not touch, and appends its history entry', async () => {
      const storage = factory.create();
      const at = new Date('2026-01-02T03:04:05Z');
      const entry = (outcome: 'baseline' | 'repaired', checksum: string) => ({
        migrationId: ID, direction: 'up' as const, outcome, checksum, startedAt: at, finishedAt: at, durationMs: 0, ...identity, reason: 'adopting',
      });
      await storage.amend(ID, {
        set: { checksum: 'a'.repeat(64), status: MigrationStatus.applied, direction: 'up', startedAt: at, runAt: at, finishedAt: at, appliedAt: at, baseline: true, ...identity },
        history: entry('baseline', 'a'.repeat(64)),
      });
      expect(await storage.records()).toEqual([expect.objectContaining({ _id: ID, status: 'applied', baseline: true, checksum: 'a'.repeat(64) })]);
      await storage.amend(ID, { set: { checksum: 'b'.repeat(64) }, unset: ['baseline'], history: entry('repaired', 'b'.repeat(64)) });
      const [record] = await storage.records();
      expect(record).toMatchObject({ status: 'applied', checksum: 'b'.repeat(64), appliedAt: at });
      expect(record?.baseline).toBeUndefined();
      expect((await storage.history()).map((h) => `${h.outcome}:${h.reason}`)).toEqual(['repaired:adopting', 'baseline:adopting']);
      // A later attempt takes the amended record over like any other.
      await storage.begin(attempt('fence-z', { direction: 'down' }));
      await storage.finish(ID, 'fence-z', 'rolled_back', {});
      expect((await storage.records())[0]).toMatchObject({ status: MigrationStatus.rolledBack });
    });
  });
}
