import { describe, expect, it } from '@jest/globals';
import type { MongoClient } from 'mongodb';
import { InvalidOptionError } from '@mongrate/core';
// Internal: the check `load()` runs before anything else.
import { RESOLVED_DRIVER_VERSION, checkSameDriver } from '../../packages/core/src/driver-version.js';

type Driver = { name: string; version: string };
/** A client as the check sees it: driver 6 keeps its handshake metadata as an object, driver 7 as a promise of one. */
const driver6 = (driver: Driver) => ({ options: { metadata: { driver } } }) as unknown as MongoClient;
const driver7 = (driver: Driver) => ({ options: { metadata: Promise.resolve({ driver }) } }) as unknown as MongoClient;

const ours = RESOLVED_DRIVER_VERSION.split('.')[0];
const other = ours === '6' ? '7' : '6';

async function failure(client: MongoClient): Promise<string> {
  const error = await checkSameDriver(client).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidOptionError);
  return (error as Error).message;
}

describe('checkSameDriver', () => {
  it.each([
    ['driver 6 (metadata object)', driver6],
    ['driver 7 (metadata promise)', driver7],
  ])('%s: names the driver version alone and the wrapper, with a remedy that names no Mongoose major', async (_, make) => {
    const message = await failure(make({ name: 'nodejs|mongoose', version: `${other}.20.0|8.24.10` }));
    expect(message).toContain(`The client comes from mongodb ${other}.20.0 (wrapped by mongoose 8.24.10)`);
    expect(message).toContain(`@mongrate/core resolves mongodb ${RESOLVED_DRIVER_VERSION}`);
    expect(message).toContain(`npm i mongodb@${other}`);
    expect(message).not.toContain('|');
    expect(message).not.toMatch(/Mongoose \d/);
  });

  it.each([
    ['driver 6 (metadata object)', driver6],
    ['driver 7 (metadata promise)', driver7],
  ])('%s: a bare driver says no wrapper', async (_, make) => {
    const message = await failure(make({ name: 'nodejs', version: `${other}.1.2` }));
    expect(message).toContain(`The client comes from mongodb ${other}.1.2, but`);
    expect(message).not.toContain('wrapped');
    expect(message).toContain(`npm i mongodb@${other}`);
  });

  it('lists every wrapper the metadata names', async () => {
    const message = await failure(driver7({ name: 'nodejs|mongoose|acme-orm', version: `${other}.0.0|9.1.0|2.3.4` }));
    expect(message).toContain(`mongodb ${other}.0.0 (wrapped by mongoose 9.1.0, acme-orm 2.3.4)`);
  });

  it.each([
    ['driver 6 (metadata object)', driver6],
    ['driver 7 (metadata promise)', driver7],
  ])('%s: passes for the same major, wrapped or not, and when the metadata cannot be read', async (_, make) => {
    await expect(checkSameDriver(make({ name: 'nodejs|mongoose', version: `${ours}.1.0|9.0.0` }))).resolves.toBeUndefined();
    await expect(checkSameDriver(make({ name: 'nodejs', version: `${ours}.0.1` }))).resolves.toBeUndefined();
    await expect(checkSameDriver({ options: {} } as unknown as MongoClient)).resolves.toBeUndefined();
  });
});
