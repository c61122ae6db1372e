import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { Logger } from 'winston';
import { InvalidOptionError, LockLostError, MigrationLockedError, type LockHolder, InterruptedError } from '../errors.js';
import type { AcquireOptions, Lease, MigrationLock, ServerFence, UnlockResult } from './migration-lock.js';
import type { RunIdentity } from './run-identity.js';
import { ServerClock } from '../server-clock.js';
import { isDuplicateKey, isTransient } from '../driver-errors.js';
import { stateCollection } from '../storage/state-collections.js';

export const DEFAULT_LOCK_COLLECTION = 'migration_locks';
export const DEFAULT_LOCK_NAME = 'migrations';
export const DEFAULT_LEASE_MS = 60_000;
/** The shortest lease `MongoLock` takes, in milliseconds (the `--lease` flag's minimum is this, in seconds). */
export const MIN_LEASE_MS = 1000;
/**
 * The longest lease `MongoLock` takes: one day. A dead holder's lock is taken over only when its lease ends, and the
 * renewal timer (a third of the lease) must stay within what a Node.js timer can wait.
 */
export const MAX_LEASE_MS = 86_400_000;
export const DEFAULT_LOCK_WAIT_TIMEOUT_MS = 5 * 60_000;
export const DEFAULT_LOCK_POLL_MS = 500;

export interface MongoLockOptions {
  readonly db: Db;
  readonly identity: RunIdentity;
  readonly logger: Logger;
  /** Default `DEFAULT_LOCK_COLLECTION` (`migration_locks`). */
  readonly collection?: string;
  /** Which lock; one per set of migrations. Default `DEFAULT_LOCK_NAME` (`migrations`). */
  readonly name?: string;
  /** Lease term; renewed every third of it. Default `DEFAULT_LEASE_MS` (60 s). */
  readonly leaseMs?: number;
  /** How long `acquire` waits for a held lock. Default `DEFAULT_LOCK_WAIT_TIMEOUT_MS` (5 min). */
  readonly waitTimeoutMs?: number;
  /** Longest pause between two tries while waiting. Default `DEFAULT_LOCK_POLL_MS` (500 ms). */
  readonly pollMs?: number;
  /** Called on each try while another process holds the lock. */
  readonly onWait?: (holder: LockHolder) => void;
  /** @internal Shared with the storage by the Migrator. Default: a `ServerClock` on `db`. */
  readonly clock?: ServerClock;
}

interface LeaseDocument {
  /** The lock's name: the primary key makes the insert exclusive. */
  _id: string;
  /** This lease's fencing token: 24 random hex digits, a plain string so that no BSON value of ours reaches the app's driver. */
  fence: string;
  owner: { runId: string; host: string; pid: number; user: string };
  acquiredAt: Date;
  expiresAt: Date;
}

/**
 * A lease made only of inserts and deletes, which every MongoDB-compatible server makes atomic:
 * acquire = insert `{ _id: name, fence }`; take over = delete exactly the expired lease as read
 * (`fence` and `expiresAt`); renew = update by our `fence`; release = delete by our `fence`.
 * `fence`, a fresh random string, is the fencing token. Every operation uses `STATE_COLLECTION_OPTIONS`
 * (majority write concern, journaled; majority read concern; primary reads).
 *
 * The lock is keyed by `_id`, not by a unique secondary index on `name`: on DocumentDB a unique secondary
 * index is an exclusion constraint, and simultaneous inserts of one key deadlock there again and again
 * (20 racing clients: no winner within 250 s), while racing inserts of one `_id` settle in about 0.1 s.
 */
export class MongoLock implements MigrationLock {
  readonly #collection: Collection<LeaseDocument>;
  readonly #name: string;
  readonly #leaseMs: number;
  readonly #waitTimeoutMs: number;
  readonly #pollMs: number;
  readonly #clock: ServerClock;

  constructor(private readonly options: MongoLockOptions) {
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#waitTimeoutMs = options.waitTimeoutMs ?? DEFAULT_LOCK_WAIT_TIMEOUT_MS;
    this.#pollMs = options.pollMs ?? DEFAULT_LOCK_POLL_MS;
    if (!(this.#leaseMs >= MIN_LEASE_MS && this.#leaseMs <= MAX_LEASE_MS)) {
      throw new InvalidOptionError(`leaseMs must be from ${MIN_LEASE_MS} to ${MAX_LEASE_MS} (one day; got ${options.leaseMs}).`);
    }
    if (!(this.#waitTimeoutMs >= 0)) throw new InvalidOptionError(`waitTimeoutMs must be 0 or more (got ${options.waitTimeoutMs}).`);
    if (!(this.#pollMs > 0)) throw new InvalidOptionError(`pollMs must be more than 0 (got ${options.pollMs}).`);
    this.#collection = stateCollection<LeaseDocument>(options.db, options.collection ?? DEFAULT_LOCK_COLLECTION);
    this.#name = options.name ?? DEFAULT_LOCK_NAME;
    this.#clock = options.clock ?? new ServerClock(options.db);
  }

  async acquire(options: AcquireOptions = {}): Promise<Lease | undefined> {
    const { identity, logger } = this.options;
    const deadline = performance.now() + this.#waitTimeoutMs;
    let waited = false;
    let contention = 0;
    // The expired lease this waiter just removed: reported as taken over only once our own lease is in (another
    // waiter may insert first).
    let removed: LeaseDocument | undefined;
    for (;;) {
      if (options.signal?.aborted) throw new InterruptedError('waiting for the migration lock was interrupted');
      // A waiter asks before each new try whether the holder has done its work meanwhile.
      if (waited && options.stillNeeded && !(await options.stillNeeded())) {
        logger.info('the lock holder did the work; nothing left to do', { lock: this.#name });
        return undefined;
      }
      const now = await this.#clock.now();
      const lease: LeaseDocument = {
        _id: this.#name,
        fence: newFence(),
        owner: { runId: identity.runId, host: identity.host, pid: identity.pid, user: identity.user },
        acquiredAt: now,
        expiresAt: new Date(now.getTime() + this.#leaseMs),
      };
      const renewedAt = performance.now();
      try {
        await this.#collection.insertOne(lease);
        if (removed) logger.warn('took over an expired migration lock', { lock: this.#name, previous: toHolder(removed) });
        logger.debug('migration lock acquired', { lock: this.#name, fence: lease.fence, waited });
        return new HeldLease(this.#collection, lease, this.#leaseMs, renewedAt, this.#clock, logger);
      } catch (error) {
        if (isTransient(error)) {
          // A write conflict under contention: back off, randomised and growing, so the racers spread out.
          contention++;
          await sleep(Math.min(this.#pollMs * 4, 20 * 2 ** contention) * Math.random());
          continue;
        }
        if (!isDuplicateKey(error)) throw error;
        removed = undefined;
      }
      const holder = await this.#collection.findOne({ _id: this.#name });
      if (!holder) continue; // released between our insert and our read
      if (holder.expiresAt.getTime() <= this.#clock.estimate().getTime()) {
        // Decide a takeover on a fresh reading of the server's clock, never on an extrapolation.
        const serverNow = await this.#clock.sync();
        if (holder.expiresAt.getTime() <= serverNow.getTime()) {
          const { deletedCount } = await this.#collection.deleteOne({ _id: this.#name, fence: holder.fence, expiresAt: holder.expiresAt });
          if (deletedCount === 1) removed = holder;
          continue;
        }
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        throw new MigrationLockedError(toHolder(holder), `Waited ${Math.round(this.#waitTimeoutMs / 1000)} s for it.`);
      }
      if (!waited) logger.info('waiting for the migration lock', { holder: toHolder(holder) });
      waited = true;
      this.options.onWait?.(toHolder(holder));
      const untilExpiry = holder.expiresAt.getTime() - this.#clock.estimate().getTime();
      // Jitter spreads a stampede of waiters over the interval.
      const pause = Math.max(10, Math.min(this.#pollMs * (0.5 + Math.random() / 2), remaining, untilExpiry + 10));
      try {
        await sleep(pause, undefined, options.signal ? { signal: options.signal } : undefined);
      } catch {
        throw new InterruptedError('waiting for the migration lock was interrupted');
      }
    }
  }

  async inspect(): Promise<{ holder: LockHolder; expired: boolean } | undefined> {
    const holder = await this.#collection.findOne({ _id: this.#name });
    if (!holder) return undefined;
    const serverNow = await this.#clock.sync();
    return { holder: toHolder(holder), expired: holder.expiresAt.getTime() <= serverNow.getTime() };
  }

  async unlock(options: { readonly force?: boolean } = {}): Promise<UnlockResult> {
    const holder = await this.#collection.findOne({ _id: this.#name });
    if (!holder) return { removed: false };
    const serverNow = await this.#clock.sync();
    const expired = holder.expiresAt.getTime() <= serverNow.getTime();
    if (!expired && !options.force) {
      throw new MigrationLockedError(toHolder(holder), 'Its lease has not expired, so `unlock` left it in place.', { refusedUnlock: true });
    }
    const { deletedCount } = await this.#collection.deleteOne({ _id: this.#name, fence: holder.fence });
    this.options.logger.warn('migration lock removed by unlock', { lock: this.#name, holder: toHolder(holder), expired, force: !!options.force });
    return { removed: deletedCount === 1, holder: toHolder(holder), expired };
  }
}

/** A fencing token: unique across processes, and a plain string so that it means the same to every driver copy. */
export function newFence(): string {
  return randomBytes(12).toString('hex');
}

function toHolder(doc: LeaseDocument): LockHolder & { name: string } {
  return { ...doc.owner, name: doc._id, acquiredAt: doc.acquiredAt, expiresAt: doc.expiresAt };
}

class HeldLease implements Lease {
  readonly fence: string;
  readonly holder: LockHolder & { name: string };
  readonly serverFence: ServerFence;
  #lost: string | undefined;
  #released = false;
  /** Local monotonic time at which the last successful renewal was sent. */
  #renewedAt: number;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly collection: Collection<LeaseDocument>,
    doc: LeaseDocument,
    private readonly leaseMs: number,
    renewedAt: number,
    private readonly clock: ServerClock,
    private readonly logger: Logger,
  ) {
    this.fence = doc.fence;
    this.holder = toHolder(doc);
    this.serverFence = { dbName: collection.dbName, collection: collection.collectionName, name: doc._id };
    this.#renewedAt = renewedAt;
    this.#timer = setInterval(() => void this.#renew(), Math.max(100, Math.floor(leaseMs / 3)));
    this.#timer.unref();
  }

  get lost(): boolean {
    return this.#lost !== undefined || this.#expiredLocally();
  }

  assertHeld(): void {
    if (this.#lost) throw new LockLostError(this.#lost);
    if (this.#expiredLocally()) {
      this.#lost = `no renewal for ${Math.round((performance.now() - this.#renewedAt) / 1000)} s, past the ${this.leaseMs / 1000} s lease`;
      throw new LockLostError(this.#lost);
    }
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#timer);
    try {
      await this.collection.deleteOne({ _id: this.holder.name, fence: this.fence });
    } catch (error) {
      // The lease expires by itself; say so rather than hide a failure.
      this.logger.warn('could not release the migration lock; it will expire with its lease', { error: String(error) });
    }
  }

  // A margin for clock-rate differences: give up slightly before the server would consider us expired.
  #expiredLocally(): boolean {
    const margin = Math.min(2000, this.leaseMs / 10);
    return performance.now() - this.#renewedAt >= this.leaseMs - margin;
  }

  async #renew(): Promise<void> {
    if (this.#released || this.#lost) return;
    if (this.#expiredLocally()) {
      this.#lost = 'the lease expired before it could be renewed';
      return;
    }
    const sentAt = performance.now();
    try {
      const { matchedCount } = await this.collection.updateOne(
        { _id: this.holder.name, fence: this.fence },
        { $set: { expiresAt: new Date(this.clock.estimate().getTime() + this.leaseMs) } },
      );
      if (matchedCount === 0) {
        this.#lost = 'another process took the lease over';
        this.logger.error('migration lock lost', { fence: this.fence });
      } else {
        this.#renewedAt = sentAt;
      }
    } catch (error) {
      // A transient failure; the next tick retries, and the local expiry check stops the run in time.
      this.logger.warn('could not renew the migration lock', { error: String(error) });
    }
  }
}
