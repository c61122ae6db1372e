import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MigrationSource } from '@mongrate/core';

/** How `.ts` migrations will load: Node strips types itself, tsx was registered, nothing can load them, or none exist. */
export type TypeScriptSupport = 'native' | 'tsx' | 'unavailable' | 'not-needed';

const TS_MIGRATION = /^\d.*\.[cm]?ts$/;

/**
 * Makes `.ts` migrations loadable when a source has any: Node's own type stripping if it has it, else the app's tsx
 * (resolved from the working folder, then from each migrations folder) registered in this process. tsx is never a
 * dependency of the CLI. When neither exists, loading such a file fails with an error that names it and the remedy.
 */
export async function enableTypeScriptMigrations(sources: readonly MigrationSource[], cwd = process.cwd()): Promise<TypeScriptSupport> {
  const needed = sources.some((s) => readdirSync(s.directory).some((f) => TS_MIGRATION.test(f) && !f.endsWith('.d.ts')));
  if (!needed) return 'not-needed';
  if ((process.features as { typescript?: unknown }).typescript) return 'native';
  // Already running under tsx (`node --import tsx`, as in this repository's development loop).
  if (process.execArgv.some((arg) => /(^|[/\\])tsx([/\\]|$)/.test(arg))) return 'tsx';
  for (const base of [cwd, ...sources.map((s) => s.directory)]) {
    let loader: string;
    try {
      loader = createRequire(path.join(base, 'package.json')).resolve('tsx');
    } catch {
      continue; // not installed there
    }
    // What `node --import tsx` loads: importing it registers tsx's hooks in this process.
    await import(pathToFileURL(loader).href);
    return 'tsx';
  }
  return 'unavailable';
}
