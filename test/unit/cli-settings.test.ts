import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { configFromEnv, loadConfig, MAX_BATCH_SIZE, MAX_CONCURRENCY, MAX_LEASE_MS, MIN_LEASE_MS, type ConfigKey } from '@mongrate/core';
import type { CliIo } from '@mongrate/cli';
import { wholeNumber, type GlobalArgs } from '../../packages/cli/src/options.js';
import { resolveSettings } from '../../packages/cli/src/settings.js';

function io(cwd: string, env: NodeJS.ProcessEnv = {}): CliIo {
  return { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env, cwd, interactive: false, tty: false, onSignal: () => () => undefined };
}
const args = (given: Partial<GlobalArgs> = {}) => ({ json: false, yes: false, 'log-level': 'warn', 'log-format': 'pretty', ...given }) as GlobalArgs;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mongrate-cli-settings-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
const writeConfig = async (config: object) => {
  const file = path.join(dir, 'mongrate.config.json');
  await writeFile(file, JSON.stringify(config));
  return file;
};

describe('database names are checked before anything connects', () => {
  const uri = 'mongodb://127.0.0.1:9/app';
  const long = 'd'.repeat(64);
  it.each([
    ['a/b', /Database name "a\/b" \(--database\) has the character "\/"/],
    ['a b', /Database name "a b" \(--database\) has the character " " \(a space\)/],
    ['a.b', /Database name "a\.b" \(--database\) has the character "\."/],
    ['a$b', /has the character "\$"/],
    ['a\0b', /has the character NUL/],
    [long, /is 64 bytes long; MongoDB allows at most 63/],
    ['é'.repeat(32), /is 64 bytes long; MongoDB allows at most 63/],
  ])('--database %j is refused, naming the rule and the remedy', async (name, message) => {
    const resolving = resolveSettings(args({ database: name, uri }), io(dir));
    await expect(resolving).rejects.toThrow(message);
    await expect(resolveSettings(args({ database: name, uri }), io(dir))).rejects.toThrow(/MongoDB database names may not contain \/ \\ \. " \$ \* < > : \| \?, a space or NUL|MongoDB allows at most 63/);
    await expect(resolveSettings(args({ database: name, uri }), io(dir))).rejects.toThrow(/: (use|give) .*--database/);
  });

  it('names MONGRATE_DATABASE, the config file key and the connection string path as the source', async () => {
    await expect(resolveSettings(args({ uri }), io(dir, { MONGRATE_DATABASE: 'a.b' }))).rejects.toThrow(/"a\.b" \(MONGRATE_DATABASE\).*MONGRATE_DATABASE/);
    const file = await writeConfig({ database: 'a b' });
    await expect(resolveSettings(args({ uri }), io(dir))).rejects.toThrow(`"a b" (database in ${file})`);
    await writeConfig({ uri: 'mongodb://127.0.0.1:9/a*b' });
    await expect(resolveSettings(args(), io(dir))).rejects.toThrow(`"a*b" (the connection string's path, from uri in ${file}) has the character "*"`);
    await expect(resolveSettings(args(), io(dir))).rejects.toThrow(`: fix the path of uri in ${file}, or give --database.`);
    await rm(file);
    await expect(resolveSettings(args({ uri: 'mongodb://127.0.0.1:9/a.b' }), io(dir))).rejects.toThrow(/"a\.b" \(the connection string's path, from --uri\).*has the character "\."/);
    await expect(resolveSettings(args(), io(dir, { MONGODB_URI: 'mongodb://127.0.0.1:9/a%2Fb' }))).rejects.toThrow(/"a\/b" \(the connection string's path, from MONGODB_URI\)/);
  });

  it('accepts ordinary names up to 63 bytes, and an odd path when --database chooses the database', async () => {
    for (const name of ['app', 'App-db_1', 'd'.repeat(63), 'é'.repeat(31)]) {
      expect((await resolveSettings(args({ database: name, uri }), io(dir))).settings.database).toBe(name);
    }
    expect((await resolveSettings(args({ uri: 'mongodb://127.0.0.1:9/app-1' }), io(dir))).uriDatabase).toBe('app-1');
    expect((await resolveSettings(args({ uri: 'mongodb://127.0.0.1:9/a.b', database: 'app' }), io(dir))).settings.database).toBe('app');
  });
});

describe('numeric settings from MONGRATE_* and the config file are checked like the flags', () => {
  it('MONGRATE_LEASE_MS=500 and "leaseMs": 500 are refused, naming the variable or the file and key', async () => {
    expect(() => configFromEnv({ MONGRATE_LEASE_MS: '500' })).toThrow(/MONGRATE_LEASE_MS in the environment must be a whole number of milliseconds from 1000 to 86400000 \(one day\) \(got 500\)/);
    const file = await writeConfig({ leaseMs: 500 });
    await expect(loadConfig({ cwd: dir })).rejects.toThrow(`Setting leaseMs in config file ${file} must be a whole number of milliseconds from 1000 to 86400000 (one day) (got 500)`);
    await expect(resolveSettings(args({ uri: 'mongodb://127.0.0.1:9/app' }), io(dir))).rejects.toThrow(/leaseMs in config file .*from 1000 to 86400000/);
  });

  // Each setting, its flag's check, and the flag value for a setting value (the lease and lock timeout flags count seconds).
  const flags: Array<[ConfigKey, (raw: unknown) => number, number]> = [
    ['leaseMs', wholeNumber('--lease', '', MIN_LEASE_MS / 1000, MAX_LEASE_MS / 1000), 1000],
    ['lockWaitTimeoutMs', wholeNumber('--lock-timeout', '', 0), 1000],
    ['batchSize', wholeNumber('--batch-size', '', 1, MAX_BATCH_SIZE), 1],
    ['concurrency', wholeNumber('--concurrency', '', 1, MAX_CONCURRENCY), 1],
    ['connectTimeoutMs', wholeNumber('--connect-timeout', '', 1), 1],
  ];
  const accepts = (check: () => unknown) => {
    try {
      check();
      return true;
    } catch {
      return false;
    }
  };
  it.each(flags)('%s: the environment and the config file accept exactly what the flag accepts', async (key, flag, unit) => {
    const edges = [MAX_CONCURRENCY, MAX_BATCH_SIZE, MAX_LEASE_MS].flatMap((max) => [max, max + 1]);
    for (const value of [-1, 0, 1, 2, 500, 999, 1000, 1001, 1500, ...edges, ...edges.map((v) => v * 1000)]) {
      // A value between two whole flag values is in the flag's range when both are.
      const byFlag = [Math.floor(value / unit), Math.ceil(value / unit)].every((n) => accepts(() => flag(String(n))));
      const envName = `MONGRATE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
      expect([value, accepts(() => configFromEnv({ [envName]: String(value) }))]).toEqual([value, byFlag]);
      await writeConfig({ [key]: value });
      expect([value, await loadConfig({ cwd: dir }).then(() => true, () => false)]).toEqual([value, byFlag]);
    }
  });
});

describe("the config file's uriEnv variable beats MONGODB_URI", () => {
  const appUri = 'mongodb://127.0.0.1:9/app';
  const genericUri = 'mongodb://127.0.0.1:9/other';
  it('reads the variable the config names, as migratorOptionsFromConfig does, and says so', async () => {
    const file = await writeConfig({ uriEnv: 'DATABASE_URL' });
    const resolved = await resolveSettings(args(), io(dir, { MONGODB_URI: genericUri, DATABASE_URL: appUri }));
    expect(resolved.settings.uri).toBe(appUri);
    expect(resolved.sources.uri).toBe(`env DATABASE_URL (named by config ${file})`);
    expect(resolved.uriDatabase).toBe('app');
  });

  it('--uri and MONGRATE_URI still win; MONGODB_URI is used when the named variable is unset', async () => {
    await writeConfig({ uriEnv: 'DATABASE_URL', uri: 'mongodb://127.0.0.1:9/fromfile' });
    const env = { MONGODB_URI: genericUri, DATABASE_URL: appUri };
    expect((await resolveSettings(args(), io(dir, { ...env, MONGRATE_URI: 'mongodb://127.0.0.1:9/m' }))).sources.uri).toBe('env MONGRATE_URI');
    expect((await resolveSettings(args({ uri: 'mongodb://127.0.0.1:9/f' }), io(dir, env))).sources.uri).toBe('flag --uri');
    const fallback = await resolveSettings(args(), io(dir, { MONGODB_URI: genericUri }));
    expect([fallback.settings.uri, fallback.sources.uri]).toEqual([genericUri, 'env MONGODB_URI']);
  });
});
