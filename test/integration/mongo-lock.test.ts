import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import winston from 'winston';
import { MongoLock, createLogger, newRunIdentity } from '@mongrate/core';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { describeMigrationLockContract } from '../support/lock-contract.js';

let t: TestDatabase;
describeMigrationLockContract('MongoLock', {
  setup: async () => {
    t = await openTestDatabase(import.meta.filename);
  },
  create: ({ leaseMs, waitTimeoutMs }) =>
    new MongoLock({ db: t.db, identity: newRunIdentity(), logger: createLogger({ level: 'error' }), leaseMs, waitTimeoutMs, pollMs: 50 }),
  teardown: () => t.drop(),
});

describe('MongoLock takeover log', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await openTestDatabase(`${import.meta.filename}-takeover`);
  });
  afterEach(() => db.drop());

  /** A logger whose messages land in `lines`. */
  const capture = () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk: Buffer, _enc, done) => void (lines.push(chunk.toString()), done()) });
    return { lines, logger: createLogger({ level: 'debug', format: 'json', transports: [new winston.transports.Stream({ stream })] }) };
  };
  const expired = () => ({ _id: 'migrations', fence: 'dead-fence', owner: { runId: 'dead', host: 'gone', pid: 1, user: 'ops' }, acquiredAt: new Date(0), expiresAt: new Date(1000) });

  it('says "took over" only once its own lease is in, not when another waiter got in first', async () => {
    const locks = db.db.collection('migration_locks');
    await locks.insertOne(expired() as never);
    // Right after our waiter removes the expired lease, another process inserts its own.
    const raced = new Proxy(db.db, {
      get(target, prop) {
        if (prop !== 'collection') return Reflect.get(target, prop, target) as unknown;
        return (name: string, options?: object) => {
          const collection = target.collection(name, options);
          return new Proxy(collection, {
            get(c, p) {
              if (p !== 'deleteOne') return (typeof Reflect.get(c, p, c) === 'function' ? (Reflect.get(c, p, c) as (...a: unknown[]) => unknown).bind(c) : Reflect.get(c, p, c)) as unknown;
              return async (...args: Parameters<typeof c.deleteOne>) => {
                const result = await c.deleteOne(...args);
                await c.insertOne({ ...expired(), fence: 'other', owner: { runId: 'other', host: 'other-host', pid: 2, user: 'ops' }, expiresAt: new Date(Date.now() + 3_600_000) } as never);
                return result;
              };
            },
          });
        };
      },
    });
    const lost = capture();
    const racing = new MongoLock({ db: raced, identity: newRunIdentity(), logger: lost.logger, waitTimeoutMs: 300, pollMs: 50 });
    await expect(racing.acquire()).rejects.toMatchObject({ code: 'MIGRATION_LOCKED' });
    expect(lost.lines.join('')).not.toContain('took over');
    expect(await locks.findOne({})).toMatchObject({ owner: { runId: 'other' } });

    // Without the race, the takeover is reported once, naming the previous holder.
    await locks.deleteMany({});
    await locks.insertOne(expired() as never);
    const won = capture();
    const lease = await new MongoLock({ db: db.db, identity: newRunIdentity(), logger: won.logger, pollMs: 50 }).acquire();
    expect(lease).toBeDefined();
    expect(won.lines.filter((l) => l.includes('took over an expired migration lock'))).toHaveLength(1);
    expect(won.lines.join('')).toContain('"host":"gone"');
    await lease?.release();
  });
});
