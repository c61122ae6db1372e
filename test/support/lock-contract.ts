import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { LockLostError, MigrationLockedError, type Lease, type MigrationLock } from '@mongrate/core';

/** What every MigrationLock adapter must do. `create` makes a lock on shared state for one test. */
export interface LockFactory {
  setup(): Promise<void>;
  create(options: { leaseMs: number; waitTimeoutMs: number }): MigrationLock;
  teardown(): Promise<void>;
}

async function take(lock: MigrationLock): Promise<Lease> {
  const lease = await lock.acquire();
  if (!lease) throw new Error('acquire() without stillNeeded must return a lease');
  return lease;
}

export function describeMigrationLockContract(name: string, factory: LockFactory): void {
  describe(`MigrationLock contract: ${name}`, () => {
    beforeEach(() => factory.setup());
    afterEach(() => factory.teardown());

    it('grants the lease to one holder at a time', async () => {
      const a = factory.create({ leaseMs: 5000, waitTimeoutMs: 0 });
      const b = factory.create({ leaseMs: 5000, waitTimeoutMs: 0 });
      const lease = await take(a);
      const error = await take(b).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationLockedError);
      expect((error as MigrationLockedError).holder?.pid).toBe(process.pid);
      expect((error as Error).message).toMatch(/held by host .*pid \d+/);
      await lease.release();
      const next = await take(b);
      expect(next.fence === lease.fence).toBe(false);
      await next.release();
    });

    it('of many concurrent acquirers exactly one wins; the others wait their turn', async () => {
      const locks = Array.from({ length: 8 }, () => factory.create({ leaseMs: 5000, waitTimeoutMs: 30_000 }));
      let inside = 0;
      let maxInside = 0;
      await Promise.all(
        locks.map(async (lock) => {
          const lease = await take(lock);
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 20));
          inside--;
          await lease.release();
        }),
      );
      expect(maxInside).toBe(1);
    });

    it('a waiter told the work is done stops waiting without the lease', async () => {
      const a = factory.create({ leaseMs: 5000, waitTimeoutMs: 0 });
      const b = factory.create({ leaseMs: 5000, waitTimeoutMs: 30_000 });
      const lease = await take(a);
      let asked = 0;
      const result = await b.acquire({ stillNeeded: async () => ++asked < 3 });
      expect(result).toBeUndefined();
      expect(asked).toBe(3);
      expect((await b.inspect())?.holder.runId).toBe(lease.holder.runId);
      await lease.release();
    });

    it('reports the holder, and unlock removes only an expired lease unless forced', async () => {
      const a = factory.create({ leaseMs: 5000, waitTimeoutMs: 0 });
      expect(await a.inspect()).toBeUndefined();
      expect(await a.unlock()).toEqual({ removed: false });
      const lease = await take(a);
      expect(await a.inspect()).toMatchObject({ expired: false, holder: { pid: process.pid } });
      // The core message names the option; the CLI renders the remedy as `--force`.
      await expect(a.unlock()).rejects.toThrow(/has not expired.*`force`/);
      await expect(a.unlock()).rejects.toMatchObject({ remedies: expect.arrayContaining([expect.objectContaining({ call: 'unlock', options: { force: true } })]) });
      expect(await a.unlock({ force: true })).toMatchObject({ removed: true, expired: false });
      expect(await a.inspect()).toBeUndefined();
      await lease.release();
    });

    it('a lease that outlives its term without renewal reports itself lost', async () => {
      const a = factory.create({ leaseMs: 1000, waitTimeoutMs: 0 });
      const lease = await take(a);
      expect(() => lease.assertHeld()).not.toThrow();
      // Block the event loop past the lease, as a paused process would be: no renewal can run.
      const until = Date.now() + 1100;
      while (Date.now() < until) {
        /* busy wait */
      }
      expect(() => lease.assertHeld()).toThrow(LockLostError);
      expect(lease.lost).toBe(true);
      await lease.release();
    });

    it('takes over an expired lease, and the old holder finds itself lost on renewal', async () => {
      const a = factory.create({ leaseMs: 1000, waitTimeoutMs: 0 });
      const b = factory.create({ leaseMs: 5000, waitTimeoutMs: 10_000 });
      const old = await take(a);
      const until = Date.now() + 1100; // a stops renewing (paused), its lease expires
      while (Date.now() < until) {
        /* busy wait */
      }
      const taken = await take(b);
      expect(taken.fence === old.fence).toBe(false);
      expect(() => old.assertHeld()).toThrow(LockLostError);
      await old.release(); // deletes by its own _id only: must not remove b's lease
      expect((await b.inspect())?.expired).toBe(false);
      await taken.release();
    });
  });
}
