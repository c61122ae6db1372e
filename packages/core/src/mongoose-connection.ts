import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MongoClient } from 'mongodb';
import { messageOf } from './driver-errors.js';
import { InvalidOptionError } from './errors.js';

/**
 * The part of a Mongoose `Connection` (Mongoose 8 or 9) that this package uses. Typed by shape, so that core needs
 * no mongoose of its own: the app's `mongoose.connection` (or any `createConnection()`) fits.
 */
export interface MongooseConnection {
  /** The database name. */
  readonly name: string;
  /** 1 when connected. */
  readonly readyState: number;
  getClient(): MongoClient;
  useDb(name: string, options?: { readonly useCache?: boolean }): MongooseConnection;
}

interface OpenableConnection extends MongooseConnection {
  /** Per-connection settings that model compilation reads (`set()` would put these elsewhere). */
  config: { autoIndex?: boolean; autoCreate?: boolean };
  setClient(client: MongoClient): OpenableConnection;
}

interface MongooseModule {
  createConnection(): OpenableConnection;
}

/** Imports the app's mongoose: resolved from `cwd` first, then from this package. Undefined if neither has it. */
async function importMongoose(cwd: string): Promise<MongooseModule | undefined> {
  const candidates: Array<() => Promise<unknown>> = [
    async () => import(pathToFileURL(createRequire(path.join(cwd, 'package.json')).resolve('mongoose')).href),
    async () => import('mongoose' as string),
  ];
  for (const load of candidates) {
    try {
      const loaded = (await load()) as { default?: MongooseModule } & Partial<MongooseModule>;
      const mongoose = typeof loaded.createConnection === 'function' ? (loaded as MongooseModule) : loaded.default;
      if (mongoose && typeof mongoose.createConnection === 'function') return mongoose;
    } catch {
      // not installed there
    }
  }
  return undefined;
}

/**
 * A Mongoose connection on `client` and database `dbName`, opened with the app's mongoose (no second pool: it shares
 * the client). Resolves to the reason as a string when that cannot be done.
 */
export async function openMongooseConnection(client: MongoClient, dbName: string, cwd = process.cwd()): Promise<MongooseConnection | string> {
  // One Mongoose connection per client: `setClient` adds listeners to the client, so one per migrator would pile them up.
  const base = await (opened.get(client) ?? remember(client, openOn(client, cwd)));
  if (typeof base === 'string') return base;
  return quiet(onDatabase(base, dbName));
}

/** `connection` itself if it is on database `dbName`, else its (cached) sibling on that database, sharing its client. */
export function onDatabase<C extends MongooseConnection>(connection: C, dbName: string): C | MongooseConnection {
  return connection.name === dbName ? connection : connection.useDb(dbName, { useCache: true });
}

const opened = new WeakMap<MongoClient, Promise<MongooseConnection | string>>();

function remember(client: MongoClient, connection: Promise<MongooseConnection | string>): Promise<MongooseConnection | string> {
  opened.set(client, connection);
  return connection;
}

/** A migration binding the app's models must not build their indexes or create collections as a side effect. */
function quiet<C extends MongooseConnection>(connection: C): C {
  const { config } = connection as unknown as OpenableConnection;
  config.autoIndex = false;
  config.autoCreate = false;
  return connection;
}

async function openOn(client: MongoClient, cwd: string): Promise<MongooseConnection | string> {
  const mongoose = await importMongoose(cwd);
  if (!mongoose) return 'mongoose is not installed in this application (npm i mongoose), or pass `connection` to the Migrator';
  try {
    return quiet(mongoose.createConnection()).setClient(client);
  } catch (error) {
    // Mongoose 8 accepts only a client of its own driver copy.
    return `mongoose could not use the migrator's client (${messageOf(error)}); pass your own \`connection\` to the Migrator`;
  }
}

/**
 * Adds `connection` to a migration context as a non-enumerable getter: reading it gives the connection or throws
 * `InvalidOptionError` saying why there is none; spreading the context (`{ ...ctx }`) neither copies nor reads it.
 */
export function withConnection<T extends object>(context: T, connection: MongooseConnection | string): T & { readonly connection: MongooseConnection } {
  return Object.defineProperty(context, 'connection', {
    enumerable: false,
    get: () => {
      if (typeof connection === 'string') throw new InvalidOptionError(`ctx.connection is not available: ${connection}.`);
      return connection;
    },
  }) as T & { readonly connection: MongooseConnection };
}
