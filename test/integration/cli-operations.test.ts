import { appendFile, cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, runCli, type CliIo } from '@mongrate/cli';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { FIXTURES } from '../support/migrator.js';
import { migrate, snapshot } from '../support/cli.js';
import { REPO_ROOT } from '../support/server.js';

const BASIC = path.join(FIXTURES, 'basic');
const run = (args: readonly string[], env: NodeJS.ProcessEnv = {}, cwd?: string) => migrate(args, env, cwd ? { cwd } : {}).done;
const probes = (t: TestDatabase) => t.db.collection('probe').find({}, { sort: { _id: 1 } }).toArray();

describe('migrate CLI for operators (real binary, real server)', () => {
  let t: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let work: string;
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
    env = { MONGODB_URI: t.uri };
    work = await mkdtemp(path.join(tmpdir(), 'mongrate-ops-'));
  });
  afterEach(async () => {
    await t.drop();
    await rm(work, { recursive: true, force: true });
  });

  describe('credentials', () => {
    it('a wrong password exits 8 with a message naming the user, never the password; --uri with a password warns once, redacted', async () => {
      const user = `u_${t.name}`;
      const password = 'Right-Pa55word';
      await t.client.db('admin').command({ createUser: user, pwd: password, roles: [{ role: 'root', db: 'admin' }] });
      try {
        const url = new URL(t.uri);
        url.username = user;
        url.searchParams.set('authSource', 'admin');
        url.password = 'Wr0ng-Pa55word';
        const wrong = await run(['status', '--migrations', BASIC, '--uri', url.toString()], { MONGODB_URI: '' });
        expect(wrong.code).toBe(ExitCode.authFailed);
        expect(wrong.stderr).toContain(`Authentication failed for user "${user}"`);
        expect(wrong.stderr).not.toContain('not reachable');
        expect(wrong.stderr).not.toMatch(/[^.]\.\.(\s|$)/);
        expect(wrong.stderr).not.toContain('Wr0ng-Pa55word');
        expect(wrong.stderr.match(/Warning: --uri carries a password/g)).toHaveLength(1);
        expect(wrong.stderr).toContain('mongodb://<credentials>@');

        // The same wrong credentials from MONGODB_URI: same exit code, and no argv warning.
        const fromEnv = await run(['status', '--migrations', BASIC], { MONGODB_URI: url.toString() });
        expect(fromEnv.code).toBe(ExitCode.authFailed);
        expect(fromEnv.stderr).not.toContain('Warning');

        url.password = password;
        const right = await run(['status', '--migrations', BASIC], { MONGODB_URI: url.toString() });
        expect(right.code).toBe(ExitCode.success);
        expect(right.stderr).toBe('');
      } finally {
        await t.client.db('admin').command({ dropUser: user });
      }
    });
  });

  describe('baseline', () => {
    it('adopts a database that already has the data: marks up to <id> applied without running, with who and why; up runs only the rest', async () => {
      // The data 001 and 002 would write is already there (made by hand before the tool was adopted).
      await t.db.collection('users').insertOne({ name: 'existing' });
      const before = await snapshot(t.db);
      const baseline = await run(['baseline', '002', '--migrations', BASIC, '--reason', 'adopting prod', '--json'], env);
      expect(baseline.code).toBe(ExitCode.success);
      expect(JSON.parse(baseline.stdout).result).toEqual({ baselined: ['basic/001_create_users', 'basic/002_add_wallets'], alreadyApplied: [] });
      expect(await probes(t)).toEqual([]); // nothing ran
      expect(await t.db.collection('users').countDocuments()).toBe(1);
      const after = await snapshot(t.db);
      expect(after.users).toBe(before.users);
      expect(after).not.toHaveProperty('probe');

      const records = await t.db.collection('migrations').find({}, { sort: { _id: 1 } }).toArray();
      expect(records.map((r) => [r._id, r.status, r.baseline])).toEqual([
        ['basic/001_create_users', 'applied', true],
        ['basic/002_add_wallets', 'applied', true],
      ]);
      expect(records.every((r) => typeof r.checksum === 'string' && r.checksum.length === 64 && typeof r.user === 'string' && typeof r.host === 'string')).toBe(true);
      const history = await t.db.collection('migration_history').find({}).toArray();
      expect(history.map((h) => [h.migrationId, h.outcome, h.reason])).toEqual([
        ['basic/001_create_users', 'baseline', 'adopting prod'],
        ['basic/002_add_wallets', 'baseline', 'adopting prod'],
      ]);

      const status = await run(['status', '--migrations', BASIC], env);
      expect(status.stdout).toMatch(/basic\/001_create_users\s+applied \(baseline\)/);
      expect(status.stdout).toMatch(/basic\/003_backfill_units\s+pending/);
      expect((await run(['verify', '--migrations', BASIC], env)).code).toBe(ExitCode.success);

      const up = await run(['up', '--migrations', BASIC, '--json'], env);
      expect(up.code).toBe(ExitCode.success);
      expect(JSON.parse(up.stdout).result.migrations.map((m: { id: string }) => m.id)).toEqual(['basic/003_backfill_units']);
      expect((await probes(t)).map((p) => p.migration)).toEqual(['basic/003_backfill_units']);

      // A second baseline leaves applied ones alone.
      const again = await run(['baseline', '003', '--migrations', BASIC, '--json'], env);
      expect(JSON.parse(again.stdout).result).toEqual({ baselined: [], alreadyApplied: ['basic/001_create_users', 'basic/002_add_wallets', 'basic/003_backfill_units'] });
      const shown = await run(['history', '--migrations', BASIC], env);
      expect(shown.stdout).toMatch(/basic\/002_add_wallets\s+up\s+baseline\s+.*reason: adopting prod/);
    });
  });

  describe('repair', () => {
    it('accepts the current checksum after a cosmetic edit (clears drift), only with a reason, recorded with who and why', async () => {
      const dir = path.join(work, 'basic');
      await cp(BASIC, dir, { recursive: true });
      expect((await run(['up', '--migrations', dir], env)).code).toBe(ExitCode.success);
      await appendFile(path.join(dir, '002_add_wallets.ts'), '\n// a comment, reviewed\n');
      expect((await run(['verify', '--migrations', dir], env)).code).toBe(ExitCode.drift);

      const noReason = await run(['repair', '--migrations', dir], env);
      expect(noReason.code).toBe(ExitCode.badInput);
      expect(noReason.stderr).toContain('--reason');
      expect((await run(['verify', '--migrations', dir], env)).code).toBe(ExitCode.drift);

      const repaired = await run(['repair', '--migrations', dir, '--reason', 'comment only (PR 12)'], env);
      expect(repaired.code).toBe(ExitCode.success);
      expect(repaired.stdout).toContain('Accepted the current checksum of basic/002_add_wallets');
      expect((await run(['verify', '--migrations', dir], env)).code).toBe(ExitCode.success);
      expect((await run(['status', '--migrations', dir], env)).code).toBe(ExitCode.success);
      const entry = await t.db.collection('migration_history').findOne({ outcome: 'repaired' });
      expect(entry).toMatchObject({ migrationId: 'basic/002_add_wallets', reason: 'comment only (PR 12)', repair: expect.stringMatching(/^checksum:/) });
      expect(typeof entry?.user).toBe('string');
      expect((await probes(t)).length).toBe(3); // nothing re-ran
    });

    it('resolves a failed record as applied, or as pending, without running anything', async () => {
      const FAILING = path.join(FIXTURES, 'failing');
      await t.db.collection<{ _id: string }>('switches').insertOne({ _id: 'fail' });
      expect((await run(['up', '--migrations', FAILING], env)).code).toBe(ExitCode.failed);
      const failed = await t.db.collection('migrations').findOne({ _id: 'failing/002_fails_once' as never });
      expect(failed).toMatchObject({ status: 'failed', direction: 'up' });
      // The commands status suggests repeat the flags that chose the migrations, or they would act on others.
      const status = await run(['status', '--migrations', FAILING], env);
      expect(status.stdout).toContain(`run \`migrate up --migrations ${FAILING}\` to resume it, or \`migrate down failing/002_fails_once --migrations ${FAILING}\``);

      const applied = await run(['repair', '002', '--resolve', 'applied', '--reason', 'finished by hand', '--migrations', FAILING], env);
      expect(applied.code).toBe(ExitCode.success);
      expect(applied.stdout).toContain('Resolved failing/002_fails_once: failed → applied');
      expect(applied.stdout).toContain(`\`migrate down failing/002_fails_once --migrations ${FAILING}\` runs its down`);
      expect(await t.db.collection('migrations').findOne({ _id: 'failing/002_fails_once' as never })).toMatchObject({ status: 'applied' });
      const up = await run(['up', '--migrations', FAILING], env);
      expect(up.code).toBe(ExitCode.success);
      expect(up.stdout).toContain('up to date');
      expect(await probes(t)).toEqual([]); // 002 never ran

      // Back to failed, then resolved as pending: the next `up` runs it.
      await t.db.collection('migrations').updateOne({ _id: 'failing/002_fails_once' as never }, { $set: { status: 'failed' } });
      const pending = await run(['repair', '002', '--resolve', 'pending', '--reason', 'undone by hand', '--migrations', FAILING], env);
      expect(pending.stdout).toContain(`the next \`migrate up --migrations ${FAILING}\` that loads its file runs it`);
      expect(pending.code).toBe(ExitCode.success);
      expect(await t.db.collection('migrations').findOne({ _id: 'failing/002_fails_once' as never })).toMatchObject({ status: 'rolled_back' });
      await t.db.collection('switches').deleteMany({});
      expect((await run(['up', '--migrations', FAILING], env)).code).toBe(ExitCode.success);
      expect((await probes(t)).map((p) => p.migration)).toEqual(['failing/002_fails_once']);
      const repairs = await t.db.collection('migration_history').find({ outcome: 'repaired' }, { sort: { _id: 1 } }).toArray();
      expect(repairs.map((h) => [h.repair, h.reason])).toEqual([
        ['resolved:applied', 'finished by hand'],
        ['resolved:pending', 'undone by hand'],
      ]);
    });
  });

  describe('out-of-order policy', () => {
    it('refuses a pending migration merged after a later one ran, naming both; --allow-out-of-order applies it and history says so', async () => {
      const dir = path.join(work, 'basic');
      await cp(BASIC, dir, { recursive: true });
      const late = await readFile(path.join(dir, '002_add_wallets.ts'), 'utf8');
      await rm(path.join(dir, '002_add_wallets.ts'));
      expect((await run(['up', '--migrations', dir], env)).code).toBe(ExitCode.success);
      await writeFile(path.join(dir, '002_add_wallets.ts'), late);

      const before = await snapshot(t.db);
      const refused = await run(['up', '--migrations', dir], env);
      expect(refused.code).toBe(ExitCode.outOfOrder);
      expect(refused.stderr).toContain('basic/002_add_wallets');
      expect(refused.stderr).toContain('basic/003_backfill_units');
      expect(refused.stderr).toContain('--allow-out-of-order');
      expect(await snapshot(t.db)).toEqual(before);
      // status says why up refuses and what applies it, rather than suggesting the up that was just refused.
      const status = await run(['status', '--migrations', dir], env);
      expect(status.stdout).toContain(`\`migrate up --migrations ${dir}\` refuses to run: basic/002_add_wallets sorts before the applied basic/003_backfill_units.`);
      expect(status.stdout).toContain(`\`migrate up basic/002_add_wallets --allow-out-of-order --migrations ${dir}\``);

      const allowed = await run(['up', '--migrations', dir, '--allow-out-of-order'], env);
      expect(allowed.code).toBe(ExitCode.success);
      expect(allowed.stdout).toContain('Applied basic/002_add_wallets');
      expect(await t.db.collection('migration_history').findOne({ migrationId: 'basic/002_add_wallets' })).toMatchObject({ outcome: 'applied', outOfOrder: true });
      expect((await run(['status', '--migrations', dir], env)).stdout).toMatch(/basic\/002_add_wallets\s+applied \(out of order\)/);
      expect((await run(['history', '--migrations', dir], env)).stdout).toMatch(/basic\/002_add_wallets\s+up\s+applied \(out of order\)/);
    });
  });

  describe('config file and environment', () => {
    it('flags beat MONGRATE_* beat mongrate.config.json beat defaults, and status --show-config says where each came from', async () => {
      const app = path.join(work, 'app');
      await mkdir(path.join(app, 'src'), { recursive: true });
      const configFile = path.join(app, 'mongrate.config.json');
      await writeFile(configFile, JSON.stringify({ uriEnv: 'APP_DB_URL', migrations: [BASIC], leaseMs: 11_000, batchSize: 7, lockWaitTimeoutMs: 4_000 }));
      const settings = async (args: readonly string[], extraEnv: NodeJS.ProcessEnv) => {
        // Found from a subfolder, upwards; the URI comes from the variable the config names.
        const result = await run(['status', '--show-config', '--json', ...args], { MONGODB_URI: '', APP_DB_URL: t.uri, ...extraEnv }, path.join(app, 'src'));
        expect(result.code).toBe(ExitCode.success);
        const parsed = JSON.parse(result.stdout) as { result: { migrations: Array<{ id: string }>; settings: Array<{ setting: string; value: string; source: string }> } };
        expect(parsed.result.migrations.map((m) => m.id)).toEqual(['basic/001_create_users', 'basic/002_add_wallets', 'basic/003_backfill_units']);
        return Object.fromEntries(parsed.result.settings.map((s) => [s.setting, [s.value, s.source]]));
      };
      const fromConfig = await settings([], {});
      expect(fromConfig.leaseMs).toEqual(['11000', `config ${configFile}`]);
      expect(fromConfig.batchSize).toEqual(['7', `config ${configFile}`]);
      expect(fromConfig.uri).toEqual([t.uri, `env APP_DB_URL (named by config ${configFile})`]);
      expect(fromConfig.connectTimeoutMs?.[1]).toBe('default');
      expect(fromConfig.concurrency).toEqual(['2', 'default']);
      // No --database: the one the connection string names, said so (not "unset").
      expect(fromConfig.database).toEqual([new URL(t.uri).pathname.slice(1), `the connection string's path (env APP_DB_URL (named by config ${configFile}))`]);
      expect((await settings(['--database', 'elsewhere'], {})).database).toEqual(['elsewhere', 'flag --database']);

      const fromEnv = await settings([], { MONGRATE_LEASE_MS: '22000', MONGRATE_BATCH_SIZE: '8' });
      expect(fromEnv.leaseMs).toEqual(['22000', 'env MONGRATE_LEASE_MS']);
      expect(fromEnv.batchSize).toEqual(['8', 'env MONGRATE_BATCH_SIZE']);
      expect(fromEnv.lockWaitTimeoutMs).toEqual(['4000', `config ${configFile}`]);

      const fromFlags = await settings(['--lease', '33', '--batch-size', '9', '--concurrency', '3'], { MONGRATE_LEASE_MS: '22000', MONGRATE_BATCH_SIZE: '8', MONGRATE_CONCURRENCY: '4' });
      expect(fromFlags.leaseMs).toEqual(['33000', 'flag --lease']);
      expect(fromFlags.batchSize).toEqual(['9', 'flag --batch-size']);
      expect(fromFlags.concurrency).toEqual(['3', 'flag --concurrency']);
      expect((await settings([], { MONGRATE_CONCURRENCY: '4' })).concurrency).toEqual(['4', 'env MONGRATE_CONCURRENCY']);

      // The settings are used: up takes the batch size and lease from the environment and config.
      const up = await run(['up', '--json'], { MONGODB_URI: '', APP_DB_URL: t.uri }, app);
      expect(up.code).toBe(ExitCode.success);
      expect((await probes(t)).length).toBe(3);

      // A bad setting is bad input naming the file and the key.
      await writeFile(configFile, JSON.stringify({ migrations: [BASIC], leaseSeconds: 3 }));
      const bad = await run(['status'], env, app);
      expect(bad.code).toBe(ExitCode.badInput);
      expect(bad.stderr).toContain('Unknown setting "leaseSeconds"');
      expect(bad.stderr).toContain(configFile);
      const badEnv = await run(['status', '--migrations', BASIC], { ...env, MONGRATE_BATCH_SIZE: 'lots' });
      expect(badEnv.code).toBe(ExitCode.badInput);
      expect(badEnv.stderr).toContain('MONGRATE_BATCH_SIZE');
      // Out of range from the environment is refused like the flag, naming the variable.
      for (const [name, value, range] of [['MONGRATE_CONCURRENCY', '17', '1 to 16'], ['MONGRATE_BATCH_SIZE', '200000', '1 to 100000']] as const) {
        const outOfRange = await run(['status', '--migrations', BASIC], { ...env, [name]: value });
        expect(outOfRange.code).toBe(ExitCode.badInput);
        expect(outOfRange.stderr).toContain(`Setting ${name} in the environment must be a whole number from ${range} (got ${value})`);
      }
    });
  });

  describe('create', () => {
    it('--ext js writes a loadable ES module; later files follow the folder; --template data uses the toolkit', async () => {
      const dir = path.join(work, 'js-migrations');
      await mkdir(dir);
      // The generated files import @mongrate/core, as in an app that depends on it.
      await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(work, 'node_modules'));
      const first = await run(['create', 'add thing', '--ext', 'js', '--migrations', dir], env);
      expect(first.code).toBe(ExitCode.success);
      expect(first.stdout).toContain(path.join(dir, '001_add_thing.js'));
      const second = await run(['create', 'move legacy orders', '--template', 'data', '--migrations', dir], env);
      expect(second.code).toBe(ExitCode.success);
      expect(await readdir(dir)).toEqual(['001_add_thing.js', '002_move_legacy_orders.js']);
      const data = await readFile(path.join(dir, '002_move_legacy_orders.js'), 'utf8');
      expect(data).toContain('backupAndUpdate(ctx');
      expect(data).toContain('restoreBackups(ctx');
      expect(data).not.toContain('MigrationContext');

      await t.db.collection('orders').insertMany([{ status: 'legacy' }, { status: 'legacy' }, { status: 'other' }]);
      const up = await run(['up', '--migrations', dir, '--json'], env);
      expect(up.code).toBe(ExitCode.success);
      expect(JSON.parse(up.stdout).result.migrations.map((m: { id: string; counts: Record<string, number> }) => [m.id, m.counts.updated])).toEqual([
        ['js-migrations/001_add_thing', undefined],
        ['js-migrations/002_move_legacy_orders', 2],
      ]);
      expect((await run(['down', '--yes', '--migrations', dir], env)).code).toBe(ExitCode.success);
      expect(await t.db.collection('orders').countDocuments({ status: 'legacy' })).toBe(2);

      const cjs = await run(['create', 'third', '--ext', 'cjs', '--migrations', dir], env);
      expect(cjs.code).toBe(ExitCode.success);
      expect(await readFile(path.join(dir, '003_third.cjs'), 'utf8')).toContain('exports.up = async function up(ctx)');
      const bad = await run(['create', 'fourth', '--ext', 'py', '--migrations', dir], env);
      expect(bad.code).toBe(ExitCode.badInput);
    });
  });

  describe('confirmation', () => {
    it('answering no at the prompt exits 10 (cancelled) and rolls nothing back; runCli never exits the process', async () => {
      // JavaScript migrations: in-process, under jest, no TypeScript loader can be registered.
      const dir = path.join(work, 'js');
      await mkdir(dir);
      expect((await run(['create', 'first', '--ext', 'js', '--migrations', dir], env)).code).toBe(ExitCode.success);
      expect((await run(['up', '--migrations', dir], env)).code).toBe(ExitCode.success);
      const before = await snapshot(t.db);
      const stdin = new PassThrough();
      let stdout = '';
      let stderr = '';
      const io: CliIo = {
        stdout: new PassThrough().on('data', (d: Buffer) => (stdout += d.toString())),
        stderr: new PassThrough().on('data', (d: Buffer) => (stderr += d.toString())),
        stdin,
        env,
        cwd: REPO_ROOT,
        interactive: true,
        tty: false,
        onSignal: () => () => undefined,
      };
      const code = runCli(['down', '--migrations', dir], io);
      for (let i = 0; !stderr.includes('[y/N]') && i < 3000; i++) await sleep(10);
      expect(stderr).toContain('Roll back js/001_first? [y/N]');
      stdin.write('n\n');
      expect(await code).toBe(ExitCode.cancelled);
      expect(stdout).toContain('Cancelled: nothing was rolled back.');
      expect(await snapshot(t.db)).toEqual(before);
    });
  });

  describe('argument order', () => {
    it('--migrations before the command no longer swallows the command', async () => {
      const status = await run(['--migrations', BASIC, 'status'], env);
      expect(status.code).toBe(ExitCode.success);
      expect(status.stdout).toContain('basic/001_create_users');
      const two = await run(['--migrations', BASIC, '--migrations', path.join(FIXTURES, 'extra'), 'status'], env);
      expect(two.code).toBe(ExitCode.success);
      expect(two.stdout).toContain('extra/001_extra_step');
    });
  });
});
