import { randomBytes } from 'node:crypto';
import { ObjectId, type Collection, type Db, type Document } from 'mongodb';
import { DEFAULT_CONCURRENCY, createLogger, type MigrationContext } from '@mongrate/core';
import { withConnection } from '../../packages/core/src/mongoose-connection.js';

/** What a checkpoint holds between attempts, as the migrator's record does: `load` sees the previous attempt's last save. */
export interface CheckpointStore {
  value: unknown;
}

export interface ToolkitContextOptions {
  readonly id?: string;
  readonly direction?: 'up' | 'down';
  readonly batchSize?: number;
  /** Default `DEFAULT_CONCURRENCY`, as the migrator hands it. */
  readonly concurrency?: number;
  readonly runAt?: Date;
  /** Shared across attempts of one run; a fresh store starts a fresh run. */
  readonly checkpoint?: CheckpointStore;
  /** Stands in for the database the toolkit sees, e.g. `interceptDb(...)`. */
  readonly db?: Db;
  readonly signal?: AbortSignal;
  /** A lease document `{ _id: name, fence }` in `collection` of this database that the toolkit may fence its writes on (the caller inserts it). */
  readonly serverFence?: { readonly collection: string; readonly name: string; readonly fence: string };
}

/** A hand-built MigrationContext on a test database: the toolkit is called directly, with no migrator. */
export function toolkitContext(db: Db, client: MigrationContext['client'], options: ToolkitContextOptions = {}): MigrationContext {
  const store = options.checkpoint ?? { value: undefined };
  const atStart = store.value;
  const runAt = options.runAt ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  return withConnection<Omit<MigrationContext, 'connection'>>({
    client,
    db: options.db ?? db,
    logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'error' }),
    migration: {
      id: options.id ?? 'test/001_toolkit',
      direction: options.direction ?? 'up',
      runId: randomBytes(6).toString('hex'),
      startedAt: runAt,
      runAt,
    },
    batchSize: options.batchSize ?? 10,
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    signal: options.signal ?? new AbortController().signal,
    lease: options.serverFence
      ? {
          fence: options.serverFence.fence,
          assertHeld: () => undefined,
          serverFence: { dbName: db.databaseName, collection: options.serverFence.collection, name: options.serverFence.name },
        }
      : { fence: new ObjectId().toHexString(), assertHeld: () => undefined },
    checkpoint: {
      load: <T>() => atStart as T | undefined,
      save: async (value: unknown) => {
        store.value = structuredClone(value);
      },
    },
    progress: () => undefined,
    progressFollowed: true,
  }, 'toolkit tests run without a Mongoose connection');
}

/** Runs `hook` after a method of one collection resolves (or fails); the hook may throw to stand in for a crash. */
export interface CollectionHooks {
  readonly collection: string;
  readonly method: 'insertMany' | 'bulkWrite' | 'aggregate';
  readonly after: (call: number) => Promise<void> | void;
}

/** A Db whose `collection(name)` returns collections with `hooks` around their methods; everything else is the real one. */
export function interceptDb(db: Db, hooks: readonly CollectionHooks[]): Db {
  const calls = new Map<CollectionHooks, number>();
  const wrap = (collection: Collection<Document>, name: string): Collection<Document> =>
    new Proxy(collection, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        const mine = hooks.filter((h) => h.collection === name && h.method === prop);
        if (mine.length === 0) return value.bind(target);
        const hooked = async (call: () => Promise<unknown>) => {
          let failure: unknown;
          let result: unknown;
          try {
            result = await call();
          } catch (error) {
            failure = error;
          }
          for (const hook of mine) {
            const n = (calls.get(hook) ?? 0) + 1;
            calls.set(hook, n);
            await hook.after(n);
          }
          if (failure !== undefined) throw failure;
          return result;
        };
        if (prop === 'aggregate') {
          // A cursor: the hooks run once it has been drained (`toArray`), i.e. after the command ran.
          return (...args: unknown[]) => {
            const cursor = (value as (...a: unknown[]) => { toArray(): Promise<unknown> }).apply(target, args);
            const toArray = cursor.toArray.bind(cursor);
            cursor.toArray = () => hooked(toArray) as Promise<never>;
            return cursor;
          };
        }
        return (...args: unknown[]) => hooked(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      },
    });
  return new Proxy(db, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (prop === 'collection') {
        return (name: string, options?: Parameters<Db['collection']>[1]) => wrap(target.collection(name, options), name);
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Stands in for `kill -9`: nothing after it runs. */
export class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash');
  }
}
