/**
 * Yields a MongoDB URI for tests, the demo and the benchmark, in this order:
 * 1. `MONGODB_URI` when set;
 * 2. the FerretDB 2.7 + DocumentDB stack when `../shared/docdb` exists (installed once, then a throwaway instance);
 * 3. mongodb-memory-server.
 * What it starts it stops, also when the parent dies: a detached watchdog stops the instance once the parent is gone.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ServerKind = { env: 'env', docdb: 'docdb', memory: 'mongodb-memory-server' } as const;
export type ServerKind = (typeof ServerKind)[keyof typeof ServerKind];

export interface TestServer {
  readonly uri: string;
  readonly kind: ServerKind;
  /** A line for humans: which server, where. */
  readonly description: string;
  /** For fault injection (docdb only): a command line that restarts the server in place; append the seconds to stay down. */
  readonly restartScript?: string;
  stop(): Promise<void>;
}

export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
/** Where the docdb stack's scripts live; `DOCDB_SCRIPTS` overrides. */
export const DOCDB_SCRIPTS = process.env.DOCDB_SCRIPTS ?? path.resolve(REPO_ROOT, '..', 'shared', 'docdb');

const NO_SERVER_HELP =
  'No MongoDB server could be had. Set MONGODB_URI to a MongoDB 6+ (or compatible) server, ' +
  `or provide the docdb stack at ${DOCDB_SCRIPTS} (run its install.sh as root), ` +
  'or let mongodb-memory-server download mongod (needs network access to fastdl.mongodb.org).';

export async function startServer(): Promise<TestServer> {
  const fromEnv = process.env.MONGODB_URI;
  if (fromEnv) {
    return { uri: fromEnv, kind: ServerKind.env, description: 'MONGODB_URI (external server)', stop: async () => {} };
  }
  if (existsSync(path.join(DOCDB_SCRIPTS, 'start.sh'))) return startDocdb();
  return startMemoryServer();
}

async function startDocdb(): Promise<TestServer> {
  const script = (name: string) => path.join(DOCDB_SCRIPTS, name);
  try {
    await run('bash', [script('install.sh')], { maxBuffer: 64 << 20 });
  } catch (error) {
    throw new Error(`Installing the docdb stack failed (${script('install.sh')} must run as root once). ${NO_SERVER_HELP}`, {
      cause: error,
    });
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'mongrate-docdb-'));
  let uri: string;
  try {
    const { stdout } = await run('bash', [script('start.sh'), dir], { env: { ...process.env, DOCDB_FAST: '1' } });
    uri = stdout.trim().split('\n').at(-1) ?? '';
  } catch (error) {
    await run('bash', [script('stop.sh'), dir]).catch(() => undefined);
    throw new Error(`Starting the docdb stack failed. ${NO_SERVER_HELP}`, { cause: error });
  }
  // Stops the instance if this process dies without calling stop() (kill -9, an interrupted test run).
  const watchdog = spawn(
    'bash',
    ['-c', 'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done; [ -d "$2" ] && exec bash "$3" "$2"', 'watchdog', String(process.pid), dir, script('stop.sh')],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  return {
    uri,
    kind: ServerKind.docdb,
    description: `FerretDB 2.7 + DocumentDB on PostgreSQL 15 (docdb stack) at ${uri}`,
    restartScript: `bash ${script('restart.sh')} ${dir}`,
    stop: async () => {
      await run('bash', [script('stop.sh'), dir]);
    },
  };
}

async function startMemoryServer(): Promise<TestServer> {
  try {
    const { MongoMemoryReplSet } = await import('mongodb-memory-server');
    const server = await MongoMemoryReplSet.create({ replSet: { count: 1 } });
    const uri = server.getUri();
    return { uri, kind: ServerKind.memory, description: `mongodb-memory-server at ${uri}`, stop: async () => void (await server.stop()) };
  } catch (error) {
    throw new Error(NO_SERVER_HELP, { cause: error });
  }
}

/** Puts a database name into a server URI, keeping its options. */
export function uriWithDatabase(uri: string, dbName: string): string {
  const url = new URL(uri);
  url.pathname = `/${dbName}`;
  return url.toString();
}
