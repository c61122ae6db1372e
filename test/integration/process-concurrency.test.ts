import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { LockLostError, MigrateErrorCode } from '@mongrate/core';
import { openTestDatabase, serverUri, type TestDatabase } from '../support/database.js';
import { FIXTURES, testMigrator } from '../support/migrator.js';
import { REPO_ROOT } from '../support/server.js';
import { finished, spawnTs } from '../support/spawn-ts.js';

const WORKER = path.join(REPO_ROOT, 'test', 'support', 'migrate-worker.ts');
const PROCESSES = 20;
const ROUNDS = Number(process.env.STAMPEDE_ROUNDS ?? 5);

interface LeaseDoc {
  _id: string;
  fence: unknown;
  acquiredAt: Date;
  expiresAt: Date;
  owner: { pid: number };
}

function waitFor<T>(what: string, poll: () => Promise<T | undefined | null>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    for (;;) {
      const value = await poll();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(25);
    }
  })();
}

describe('separate OS processes', () => {
  let t: TestDatabase;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
    await t.drop();
  });

  /** Starts a worker running the slow fixture (`steps` × 100 ms) and waits until it holds the lock and has made progress. */
  async function startSlowHolder(leaseMs: number, steps: number) {
    await t.db.collection<{ _id: string; steps: number; stepMs: number }>('switches').insertOne({ _id: 'slow', steps, stepMs: 100 });
    const holder = spawnTs(WORKER, ['up', JSON.stringify({ uri: serverUri(), dbName: t.name, dir: path.join(FIXTURES, 'slow'), leaseMs })], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(holder);
    const done = finished(holder);
    const probe = t.db.collection('probe');
    const old = await waitFor('the holder to take the lock', () => t.db.collection<LeaseDoc>('migration_locks').findOne({}));
    await waitFor('the holder to make progress', async () => (await probe.countDocuments()) >= 3);
    return { holder, done, old, probe };
  }

  it(`${PROCESSES} processes booting together: every migration runs exactly once, no caller sees an error (${ROUNDS} rounds)`, async () => {
    const workers = Array.from({ length: PROCESSES }, () => {
      const child = spawnTs(WORKER, ['serve', JSON.stringify({ uri: serverUri(), dir: path.join(FIXTURES, 'basic'), lockPollMs: 100 })], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      return child;
    });
    const next = (child: ChildProcess) => new Promise<Record<string, unknown>>((resolve) => child.once('message', (m) => resolve(m as Record<string, unknown>)));
    await Promise.all(workers.map(next)); // ready
    for (let round = 0; round < ROUNDS; round++) {
      const dbName = `${t.name}_r${round}`;
      const replies = workers.map(next);
      for (const w of workers) w.send({ dbName });
      const results = await Promise.all(replies);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      const applied = results.flatMap((r) => r.applied as string[]);
      expect(applied.sort()).toEqual(['basic/001_create_users', 'basic/002_add_wallets', 'basic/003_backfill_units']);
      expect(results.filter((r) => r.nothingToDo).length).toBeGreaterThanOrEqual(PROCESSES - 3);
      const db = t.client.db(dbName);
      const runs = await db
        .collection('probe')
        .aggregate<{ _id: string; n: number }>([{ $group: { _id: '$migration', n: { $sum: 1 } } }, { $sort: { _id: 1 } }])
        .toArray();
      expect(runs).toEqual([
        { _id: 'basic/001_create_users', n: 1 },
        { _id: 'basic/002_add_wallets', n: 1 },
        { _id: 'basic/003_backfill_units', n: 1 },
      ]);
      await db.dropDatabase();
    }
    for (const w of workers) w.send({ exit: true });
  });

  it('kill -9 of the holder: another process takes over after the lease expires, not before', async () => {
    const leaseMs = 3000;
    const { holder, done, old, probe } = await startSlowHolder(leaseMs, 60);
    holder.kill('SIGKILL');
    await done;
    const stepsBefore = await probe.countDocuments();
    const result = await testMigrator(t, path.join(FIXTURES, 'slow'), { leaseMs, lockPollMs: 100 }).up();
    expect(result.migrations.map((m) => m.id)).toEqual(['slow/001_slow_steps']);
    const takeover = await t.db.collection('migration_history').findOne({ outcome: 'applied' });
    // The new holder's lease began only once the dead holder's had expired, by the server's clock.
    const record = await t.db.collection('migrations').findOne({ _id: 'slow/001_slow_steps' as never });
    expect(takeover).not.toBeNull();
    expect(record?.startedAt.getTime()).toBeGreaterThanOrEqual(old.expiresAt.getTime());
    // It resumed from the checkpoint: only the step in flight at the kill (written, not yet checkpointed) may run twice.
    expect(await probe.countDocuments()).toBeLessThanOrEqual(61);
    expect(stepsBefore).toBeGreaterThanOrEqual(3);
    expect(await probe.distinct('step')).toHaveLength(60);
  });

  it('a holder paused (SIGSTOP) past its lease writes nothing after the takeover and fails with LockLostError', async () => {
    const leaseMs = 2000;
    const { holder, done, old, probe } = await startSlowHolder(leaseMs, 40);
    holder.kill('SIGSTOP');
    const result = await testMigrator(t, path.join(FIXTURES, 'slow'), { leaseMs, lockPollMs: 100 }).up();
    expect(result.migrations.map((m) => m.id)).toEqual(['slow/001_slow_steps']);
    const oldWritesAtTakeover = await probe.countDocuments({ fence: old.fence });
    holder.kill('SIGCONT');
    const { code, stdout } = await done;
    expect(code).toBe(1);
    const last = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { ok: boolean; error: { rootCode: string } };
    expect(last.ok).toBe(false);
    expect(last.error.rootCode).toBe(MigrateErrorCode.LockLost);
    expect(new LockLostError('x').code).toBe(last.error.rootCode);
    expect(await probe.countDocuments({ fence: old.fence })).toBe(oldWritesAtTakeover);
    const record = await t.db.collection('migrations').findOne({ _id: 'slow/001_slow_steps' as never });
    expect(record).toMatchObject({ status: 'applied' });
    expect(record?.fence).not.toEqual(old.fence);
  });
});
