import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { REPO_ROOT } from './server.js';

/** Node flags that run TypeScript from source, as `pnpm migrate` does. */
export const TS_NODE_ARGS = ['--import', 'tsx', '--conditions=source'];

/** Starts a TypeScript file in a new Node process. */
export function spawnTs(file: string, args: readonly string[] = [], options: SpawnOptions & { nodeArgs?: readonly string[] } = {}): ChildProcess {
  const { nodeArgs = [], ...spawnOptions } = options;
  return spawn(process.execPath, [...nodeArgs, ...TS_NODE_ARGS, file, ...args], { cwd: REPO_ROOT, ...spawnOptions });
}

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Collects a child's output and waits for it to exit. */
export function finished(child: ChildProcess): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
