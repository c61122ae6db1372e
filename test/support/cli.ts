import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Db } from 'mongodb';
import { collectionHash } from './collection-hash.js';
import { REPO_ROOT } from './server.js';
import { finished, type Finished } from './spawn-ts.js';

/** The real, compiled `migrate` bin (`pnpm build` first). */
export const MIGRATE_BIN = path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'migrate.js');

/** Runs the `migrate` bin (in the repository root unless `cwd` is given) with extra environment variables. */
export function migrate(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  options: { readonly cwd?: string } = {},
): { done: Promise<Finished>; pid: number | undefined; kill: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [MIGRATE_BIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return { done: finished(child), pid: child.pid, kill: (s) => child.kill(s) };
}

/** Every collection's name and content hash: equal snapshots mean nothing was written. */
export async function snapshot(db: Db): Promise<Record<string, string>> {
  const names = (await db.listCollections().toArray()).map((c) => c.name).sort();
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await collectionHash(db.collection(n))] as const)));
}
