import { createRequire } from 'node:module';
import type { MongoClient } from 'mongodb';
import { InvalidOptionError } from './errors.js';

/** The version of the `mongodb` driver this package resolved (the app's, as a peer dependency). */
export const RESOLVED_DRIVER_VERSION: string = (createRequire(import.meta.url)('mongodb/package.json') as { version: string }).version;

const major = (version: string) => version.split('.')[0];

/**
 * Fails when the app's client comes from another major version of the driver than the one this package resolved:
 * BSON values of one major are refused by the other (`BSONVersionError`), so the data toolkit could not work.
 * Typical cause: Mongoose 8 (driver 6) plus a separately installed `mongodb@7`.
 */
export async function checkSameDriver(client: MongoClient): Promise<void> {
  // Driver 6 keeps its handshake metadata as an object, driver 7 as a promise of one.
  const metadata = (await (client.options as { metadata?: unknown }).metadata) as { driver?: { version?: unknown } } | undefined;
  const theirs = metadata?.driver?.version;
  if (typeof theirs !== 'string' || major(theirs) === major(RESOLVED_DRIVER_VERSION)) return;
  throw new InvalidOptionError(
    `The client comes from mongodb ${theirs}, but @mongrate/core resolves mongodb ${RESOLVED_DRIVER_VERSION}. ` +
      `Install the driver your client uses, once, where @mongrate/core can resolve it (for Mongoose 8: npm i mongodb@${major(theirs)}).`,
  );
}
