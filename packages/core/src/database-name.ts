import type { MongoClient } from 'mongodb';
import { ConnectionString } from 'mongodb-connection-string-url';
import { InvalidOptionError } from './errors.js';
import type { MongooseConnection } from './mongoose-connection.js';

/** MongoDB's limit on a database name, in UTF-8 bytes (fewer than 64). */
export const MAX_DATABASE_NAME_BYTES = 63;

/** Characters MongoDB refuses in a database name on some platform (its Windows list, a superset of the Unix one), and NUL. */
const FORBIDDEN_IN_DATABASE_NAME = /[/\\. "$*<>:|?\0]/;

/** The database the driver takes when nothing names one. */
const DRIVER_DEFAULT_DATABASE = 'test';

/** MongoDB's own databases: users, replication state, sharding metadata. Never an application's data. */
const SYSTEM_DATABASES: ReadonlySet<string> = new Set(['admin', 'local', 'config']);

/**
 * Why `name` cannot be the database migrations run on ("is empty", "has the character …", "is MongoDB's own …"), or
 * undefined when it can.
 */
export function databaseNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (SYSTEM_DATABASES.has(name)) return `is one of MongoDB's own databases (admin, local, config), not an application's`;
  const bad = FORBIDDEN_IN_DATABASE_NAME.exec(name)?.[0];
  if (bad !== undefined) {
    const shown = bad === '\0' ? 'NUL' : bad === ' ' ? '" " (a space)' : JSON.stringify(bad);
    return `has the character ${shown}, and MongoDB database names may not contain / \\ . " $ * < > : | ?, a space or NUL`;
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  return bytes > MAX_DATABASE_NAME_BYTES ? `is ${bytes} bytes long; MongoDB allows at most ${MAX_DATABASE_NAME_BYTES}` : undefined;
}

/** The database a connection string's path names: '' when it names none, undefined for a string that does not parse. */
export function databaseInUri(uri: string): string | undefined {
  try {
    return decodeURIComponent(new ConnectionString(uri).pathname.replace(/^\//, ''));
  } catch {
    return undefined;
  }
}

/**
 * Refuses, before anything connects or is written, a database the migrator must not use: a name MongoDB refuses (from
 * `dbName`, the Mongoose connection or the connection string's path), or the driver's silent fallback (below).
 */
export function checkDatabaseChoice(client: MongoClient, options: { readonly dbName?: string | undefined; readonly connection?: MongooseConnection | undefined }): void {
  const clientDatabase = (client.options as { dbName?: unknown } | undefined)?.dbName;
  const name = options.dbName ?? options.connection?.name ?? clientDatabase;
  const problem = typeof name === 'string' ? databaseNameProblem(name) : undefined;
  if (problem !== undefined) {
    const fix = options.dbName !== undefined ? 'pass another `dbName`' : 'fix the database in the connection string, or pass `dbName`';
    throw new InvalidOptionError(`Database name ${JSON.stringify(name)} ${problem}: ${fix}. Nothing was changed.`);
  }
  refuseDriverDefaultDatabase(client, clientDatabase, options);
}

/**
 * Refuses to work on the driver's fallback database: when neither `dbName`, the client's connection string nor its
 * options name a database, the driver silently uses `test`, and migrations would create and change it. A Mongoose
 * connection reports that fallback as its `name` (Mongoose 8 and 9) unless its `dbName` option or `useDb` chose it.
 * The client's internals are read by shape (drivers 6 and 7 keep the connection string as `s.url`); when they cannot
 * be read, nothing is refused.
 */
function refuseDriverDefaultDatabase(
  client: MongoClient,
  clientDatabase: unknown,
  options: { readonly dbName?: string | undefined; readonly connection?: MongooseConnection | undefined },
): void {
  if (options.dbName !== undefined) return;
  const { connection } = options;
  if (connection) {
    const chosen = connection as unknown as { readonly $dbName?: unknown; readonly _parent?: unknown };
    if (connection.name !== DRIVER_DEFAULT_DATABASE || typeof chosen.$dbName === 'string' || chosen._parent !== undefined) return;
  } else if (clientDatabase !== DRIVER_DEFAULT_DATABASE) {
    return; // named by the client options (or unreadable)
  }
  const url = (client as unknown as { s?: { url?: unknown } }).s?.url;
  if (typeof url !== 'string' || databaseInUri(url) !== '') return;
  throw new InvalidOptionError(
    `The connection string names no database and no \`dbName\` option was given: the driver would use \`${DRIVER_DEFAULT_DATABASE}\` ` +
      `(a client option naming \`${DRIVER_DEFAULT_DATABASE}\` cannot be told from that fallback). ` +
      `Put the database in the connection string's path (mongodb://host[:port]/database) or pass \`dbName\` to the migrator. Nothing was changed.`,
  );
}
