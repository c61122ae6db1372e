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
  const metadata = (await (client.options as { metadata?: unknown } | undefined)?.metadata) as { driver?: { name?: unknown; version?: unknown } } | undefined;
  const driver = handshakeDriver(metadata?.driver?.name, metadata?.driver?.version);
  if (!driver || major(driver.version) === major(RESOLVED_DRIVER_VERSION)) return;
  const wrapped = driver.wrappers.length > 0 ? ` (wrapped by ${driver.wrappers.join(', ')})` : '';
  const theirs = major(driver.version);
  throw new InvalidOptionError(
    `The client comes from mongodb ${driver.version}${wrapped}, but @mongrate/core resolves mongodb ${RESOLVED_DRIVER_VERSION}: ` +
      `one process must use one major version of the driver. Install the one your client uses where @mongrate/core resolves it ` +
      `(npm i mongodb@${theirs}), or give the migrator a client of mongodb ${major(RESOLVED_DRIVER_VERSION)}.`,
  );
}

/**
 * The driver's own version and the libraries that wrap it, from the handshake's `driver` field: libraries such as
 * Mongoose append `|<their name>` and `|<their version>` to the driver's `nodejs` and version.
 */
function handshakeDriver(name: unknown, version: unknown): { readonly version: string; readonly wrappers: readonly string[] } | undefined {
  if (typeof version !== 'string') return undefined;
  const [own = '', ...wrapperVersions] = version.split('|');
  if (own === '') return undefined;
  const wrapperNames = typeof name === 'string' ? name.split('|').slice(1) : [];
  // Each part is appended only when non-empty, so names and versions pair up only when they count the same.
  const wrappers =
    wrapperNames.length === wrapperVersions.length
      ? wrapperNames.map((n, i) => `${n} ${wrapperVersions[i] ?? ''}`.trim())
      : [...wrapperNames, ...wrapperVersions];
  return { version: own, wrappers };
}
