import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ExitCode } from '@mongrate/cli';
import { loadConfig, migratorOptionsFromConfig } from '@mongrate/core';
import { CASHU_TOKEN_COLLECTION } from '@nctool/cashu-models';
import { seedSampleData } from '@nctool/cashu-models/sample-data';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { FIXTURES } from '../support/migrator.js';
import type { Finished } from '../support/spawn-ts.js';
import { migrate, snapshot } from '../support/cli.js';

/** Bounds a hang (the defect some of these reproduce); it times nothing. */
const HANG_BOUND_MS = 45_000;

/** Runs the real `migrate` binary; a run that hangs is stopped and reported as such. */
async function run(args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Finished & { hung: boolean }> {
  const child = migrate(args, env, cwd === undefined ? {} : { cwd });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    child.kill('SIGTERM');
  }, HANG_BOUND_MS);
  try {
    return { ...(await child.done), hung };
  } finally {
    clearTimeout(timer);
  }
}

/** Inputs that must fail loudly (issue 15): a clear message naming the problem and the remedy, exit 2, nothing written. */
describe('migrate CLI: bad inputs fail loudly', () => {
  let t: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
    env = { MONGODB_URI: t.uri };
  });
  afterEach(async () => {
    await t.drop();
  });

  const unreachable = 'mongodb://127.0.0.1:9/x';
  it.each([
    ['--connect-timeout abc', ['status', '--connect-timeout', 'abc'], /--connect-timeout must be a positive whole number of milliseconds \(got abc\)/],
    ['--connect-timeout 0', ['status', '--connect-timeout', '0'], /--connect-timeout must be a positive whole number of milliseconds \(got 0\)/],
    ['--connect-timeout abc, unreachable', ['status', '--uri', unreachable, '--connect-timeout', 'abc'], /--connect-timeout must be/],
    ['--connect-timeout -5, unreachable', ['status', '--uri', unreachable, '--connect-timeout', '-5'], /--connect-timeout must be/],
    ['--lease 0', ['up', '--lease', '0'], /--lease must be a whole number of seconds from 1 to 86400 \(one day\) \(got 0\)/],
    ['--lease abc', ['up', '--lease', 'abc'], /--lease must be a whole number of seconds from 1 to 86400 \(one day\) \(got abc\)/],
    ['--lock-timeout abc', ['up', '--lock-timeout', 'abc'], /--lock-timeout must be a whole number of seconds, 0 or more \(got abc\)/],
    ['--batch-size abc', ['up', '--batch-size', 'abc'], /--batch-size must be a whole number from 1 to 100000 \(got abc\)/],
    ['--batch-size 200000', ['up', '--batch-size', '200000'], /--batch-size must be a whole number from 1 to 100000 \(got 200000\)/],
    ['--concurrency 0', ['up', '--concurrency', '0'], /--concurrency must be a whole number from 1 to 16 \(got 0\)/],
    ['--concurrency 17', ['down', '--yes', '--concurrency', '17'], /--concurrency must be a whole number from 1 to 16 \(got 17\)/],
    ['--step abc', ['down', '--yes', '--step', 'abc'], /--step must be a positive whole number \(got abc\)/],
    ['--limit abc', ['history', '--limit', 'abc'], /--limit must be a positive whole number \(got abc\)/],
    ['--top -1', ['preview', '--top', '-1'], /--top must be a whole number, 0 or more \(got -1\)/],
    ['a migrations file instead of a folder', ['status', '--migrations', path.join(FIXTURES, 'basic', '001_create_users.ts')], /--migrations .*001_create_users\.ts is a file, not a folder: pass the folder that holds the migrations/],
  ])('rejects %s with exit 2, a clear message, and no writes', async (_label, args, message) => {
    await seedSampleData(t.db, { tokens: 200, seed: 3 });
    const before = await snapshot(t.db);
    const result = await run(args, env);
    expect(result.hung).toBe(false);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^Error: /);
    expect(result.stderr).not.toMatch(/Unhandled|ERR_UNHANDLED_ERROR|\n\s+at /);
    expect(result.code).toBe(ExitCode.badInput);
    expect(await snapshot(t.db)).toEqual(before);
  });

  it.each([
    ['--uri', (uri: string) => ['status', '--uri', uri], {}],
    ['MONGODB_URI', () => ['status'], undefined],
  ])('refuses a connection string with no database (%s), naming the remedy', async (_label, args, override) => {
    const base = new URL(t.uri);
    const noDb = `mongodb://${base.host}/?appName=x`;
    const result = await run(args(noDb), override ?? { MONGODB_URI: noDb });
    expect(result.code).toBe(ExitCode.badInput);
    expect(result.stderr).toMatch(/names no database.*mongodb:\/\/host\[:port\]\/database/);
    expect(await t.client.db('test').listCollections().toArray()).toEqual([]);
  });

  // Refused before connecting: the server named here does not answer, so a check made after connecting would exit 6.
  const nowhere = ['--uri', unreachable, '--connect-timeout', '2000'];
  it.each([
    ['--database a/b (status)', ['status', ...nowhere, '--database', 'a/b'], {}, /Database name "a\/b" \(--database\) has the character "\/".*: give --database another name/],
    ['--database "a b" (up)', ['up', ...nowhere, '--database', 'a b'], {}, /Database name "a b" \(--database\) has the character " " \(a space\)/],
    ['--database a.b', ['status', ...nowhere, '--database', 'a.b'], {}, /Database name "a\.b" \(--database\) has the character "\."/],
    ['a 64-byte --database', ['up', ...nowhere, '--database', 'd'.repeat(64)], {}, /is 64 bytes long; MongoDB allows at most 63/],
    ['MONGRATE_DATABASE=a.b', ['status', ...nowhere], { MONGRATE_DATABASE: 'a.b' }, /Database name "a\.b" \(MONGRATE_DATABASE\).*set MONGRATE_DATABASE to another name, or unset it/],
    ['a connection string path /a.b', ['status', '--connect-timeout', '2000'], { MONGODB_URI: 'mongodb://127.0.0.1:9/a.b' }, /"a\.b" \(the connection string's path, from MONGODB_URI\).*fix the path of MONGODB_URI, or give --database/],
    ['MONGRATE_LEASE_MS=500', ['status', ...nowhere], { MONGRATE_LEASE_MS: '500' }, /Setting MONGRATE_LEASE_MS in the environment must be a whole number of milliseconds from 1000 to 86400000 \(one day\) \(got 500\): fix MONGRATE_LEASE_MS, or unset it/],
    ['MONGRATE_LOCK_WAIT_TIMEOUT_MS=-1', ['up', ...nowhere], { MONGRATE_LOCK_WAIT_TIMEOUT_MS: '-1' }, /MONGRATE_LOCK_WAIT_TIMEOUT_MS in the environment must be a whole number of milliseconds, 0 or more/],
  ])('refuses %s with exit 2 before connecting, naming the source, the rule and the remedy', async (_label, args, extraEnv, message) => {
    const result = await run(args, { ...env, ...extraEnv });
    expect(result.hung).toBe(false);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^Error: /);
    expect(result.code).toBe(ExitCode.badInput);
  });

  it('refuses a bad database name with a reachable server too, and writes nothing', async () => {
    const before = await snapshot(t.db);
    const result = await run(['up', '--database', 'a/b'], env);
    expect(result.code).toBe(ExitCode.badInput);
    expect(result.stderr).toMatch(/Database name "a\/b" \(--database\)/);
    expect(await snapshot(t.db)).toEqual(before);
  });

  it('refuses "leaseMs": 500 in the config file before connecting, naming the file and the key', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mongrate-cli-inputs-'));
    try {
      const file = path.join(dir, 'mongrate.config.json');
      await writeFile(file, JSON.stringify({ leaseMs: 500, migrations: [path.join(FIXTURES, 'basic')] }));
      const result = await run(['up', ...nowhere], env, dir);
      expect(result.code).toBe(ExitCode.badInput);
      expect(result.stderr).toContain(`Setting leaseMs in config file ${file} must be a whole number of milliseconds from 1000 to 86400000 (one day) (got 500): fix leaseMs in the file.`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads the connection string from the config's uriEnv variable over MONGODB_URI, as app code does", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mongrate-cli-inputs-'));
    try {
      const file = path.join(dir, 'mongrate.config.json');
      await writeFile(file, JSON.stringify({ uriEnv: 'DATABASE_URL', migrations: [path.join(FIXTURES, 'basic')] }));
      // MONGODB_URI names a server that does not answer: the CLI must not use it.
      const appEnv = { MONGODB_URI: 'mongodb://127.0.0.1:9/wrong', DATABASE_URL: t.uri };
      const { config } = await loadConfig({ cwd: dir });
      expect(migratorOptionsFromConfig(config, appEnv).uri).toBe(t.uri);

      const shown = await run(['status', '--show-config', '--json', '--connect-timeout', '2000'], appEnv, dir);
      expect(shown.code).toBe(ExitCode.success);
      const settings = Object.fromEntries(
        (JSON.parse(shown.stdout) as { result: { settings: Array<{ setting: string; value: string; source: string }> } }).result.settings.map((s) => [s.setting, [s.value, s.source]]),
      );
      expect(settings.uri).toEqual([t.uri, `env DATABASE_URL (named by config ${file})`]);
      expect(settings.database).toEqual([t.db.databaseName, `the connection string's path (env DATABASE_URL (named by config ${file}))`]);

      const up = await run(['up', '--connect-timeout', '2000'], appEnv, dir);
      expect(up.code).toBe(ExitCode.success);
      expect(await t.db.collection('migrations').countDocuments({ status: 'applied' })).toBe(3);

      // Its variable unset, and nothing else: the message names that variable.
      const unset = await run(['status'], { MONGODB_URI: '', DATABASE_URL: '' }, dir);
      expect(unset.code).toBe(ExitCode.badInput);
      expect(unset.stderr).toContain(`No connection string: DATABASE_URL, the variable ${file} names with uriEnv, is unset or empty`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an InvalidOptionError raised inside a migration after it wrote exits 1 (a failed run), not 2 (bad input, nothing written)', async () => {
    const result = await run(['up', '--migrations', path.join(FIXTURES, 'throws-invalid')], env);
    expect(await t.db.collection('probe').countDocuments()).toBe(1);
    expect(await t.db.collection('migrations').findOne({})).toMatchObject({ status: 'failed', direction: 'up' });
    expect(result.code).toBe(ExitCode.failed);
    expect(result.stderr).toContain('limit must be a positive whole number (got -1)');
    expect(result.stderr).not.toMatch(/\.\.(\s|$)/);
  });

  it.each([
    ['no command', []],
    ['a failing migration whose message ends in a full stop', ['up', '--migrations', path.join(FIXTURES, 'throws-invalid')]],
    ['an unknown option', ['status', '--frobnicate']],
  ])('no message ends in a doubled full stop: %s', async (_label, args) => {
    const result = await run(args, env);
    expect(result.code).not.toBe(ExitCode.success);
    expect(result.stderr).toMatch(/^Error: /);
    expect(result.stderr).not.toMatch(/[^.]\.\.(\s|$)/);
  });

  it('preview counts string total_amounts in "Sats affected" and reports the rows it could not sum', async () => {
    await seedSampleData(t.db, { tokens: 600, users: 6, seed: 9 });
    const tokens = t.db.collection(CASHU_TOKEN_COLLECTION);
    const extra = [
      { total_amount: '1500' },
      { total_amount: '250' },
      { total_amount: 'abc' },
      { total_amount: true },
    ].map((x, i) => ({ ...x, transaction_id: `tx-odd-${i}`, transaction_type: 'melted', status: 'unspent', npub: 'npub1odd', mint_url: 'https://mint.example', createdAt: new Date() }));
    await tokens.insertMany(extra);
    let expected = 0;
    let unsummable = 0;
    for await (const doc of tokens.find({ transaction_type: 'melted', status: 'unspent' })) {
      const v: unknown = doc.total_amount;
      if (v === undefined || v === null) continue;
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
      if (Number.isFinite(n)) expected += n;
      else unsummable++;
    }
    expect(unsummable).toBe(2);
    const before = await snapshot(t.db);
    const result = await run(['preview', '--json'], env);
    expect(result.code).toBe(ExitCode.success);
    const [preview] = (JSON.parse(result.stdout) as { result: Array<{ report: { data: { sats: number; unsummable: number }; metrics: Array<{ label: string; value: number }> } }> }).result;
    expect(preview?.report.data.sats).toBe(expected);
    expect(preview?.report.data.unsummable).toBe(unsummable);
    expect(preview?.report.metrics).toContainEqual({ label: 'Sats affected', value: expected });
    expect(preview?.report.metrics).toContainEqual({ label: 'Tokens whose amount could not be summed', value: unsummable });
    const text = await run(['preview'], env);
    expect(text.stdout).toMatch(/Tokens whose amount could not be summed\s+2/);
    expect(await snapshot(t.db)).toEqual(before);
  });

  it('the binary rejects a wrong-case extension, naming the file and the remedy', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'mongrate-cli-inputs-'));
    try {
      await writeFile(path.join(dir, '004_x.TS'), 'export const up = async () => undefined;\nexport const down = async () => undefined;\n');
      const result = await run(['status', '--migrations', dir], env);
      expect(result.code).toBe(ExitCode.badInput);
      expect(result.stderr).toMatch(/004_x\.TS.*extension must be lower-case/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('down after a failed up refuses with its remedy, naming the commands, and reverts nothing', async () => {
    await t.db.collection<{ _id: string }>('switches').insertOne({ _id: 'fail' });
    const failing = ['--migrations', path.join(FIXTURES, 'failing')];
    expect((await run(['up', ...failing], env)).code).toBe(ExitCode.failed);
    const before = await snapshot(t.db);
    const down = await run(['down', '--yes', ...failing], env);
    expect(down.code).toBe(ExitCode.failed);
    expect(down.stderr).toMatch(/failing\/002_fails_once is partly applied/);
    // The remedy repeats the flag that chose the migrations, so it runs as printed (the last line runs it).
    const where = `--migrations ${path.join(FIXTURES, 'failing')}`;
    expect(down.stderr).toContain(`\`migrate down failing/002_fails_once --yes ${where}\` reverts it; \`migrate up ${where}\` finishes it`);
    expect(await snapshot(t.db)).toEqual(before);
    expect((await run(['down', 'failing/002_fails_once', '--yes', ...failing], env)).code).toBe(ExitCode.success);
  });
});
