import { appendFile, cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ObjectId, type Document } from 'mongodb';
import { ExitCode } from '@mongrate/cli';
import { seedSampleData } from '@nctool/cashu-models/sample-data';
import { collectionHash } from '../support/collection-hash.js';
import { openTestDatabase, serverUri, type TestDatabase } from '../support/database.js';
import { FIXTURES, NCTOOL_MIGRATIONS } from '../support/migrator.js';
import type { Finished } from '../support/spawn-ts.js';
import { migrate, snapshot } from '../support/cli.js';
import { killAtBatch } from '../support/kill-at-batch.js';

const ID = 'nctool/004_fix_melted_token_status';
const run = (args: readonly string[], env: NodeJS.ProcessEnv = {}) => migrate(args, env).done;

describe('migrate CLI (real binary, real server)', () => {
  let t: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
    env = { MONGODB_URI: t.uri };
  });
  afterEach(async () => {
    await t.drop();
  });

  it('preview → up → status → down → status, with --json and documented exit codes', async () => {
    await seedSampleData(t.db, { tokens: 1500, users: 12, seed: 2 });
    const targets = await t.db.collection('cashu_tokens').countDocuments({ transaction_type: 'melted', status: 'unspent' });

    const preview = await run(['preview'], env);
    expect(preview.code).toBe(ExitCode.success);
    expect(preview.stdout).toContain(`Migration: ${ID}`);
    expect(preview.stdout).toMatch(new RegExp(`Tokens to migrate\\s+${targets.toLocaleString('en-US')}`));
    expect(preview.stdout).toMatch(/Sats affected\s+[\d,]+/);
    expect(preview.stdout).toMatch(/Estimated time\s+[\d.]+ s/);
    expect(preview.stdout).toContain('User impact (top 10 of 12 by sats)');
    expect(preview.stdout).toContain('Sample tokens');

    const up = await run(['up', '--json'], env);
    expect(up.code).toBe(ExitCode.success);
    const upJson = JSON.parse(up.stdout) as { ok: boolean; result: { migrations: Array<{ id: string; counts: { flipped: number } }> } };
    expect(upJson.ok).toBe(true);
    expect(upJson.result.migrations[0]).toMatchObject({ id: ID, counts: { flipped: targets } });

    // Up to date is success for a deploy script (issue 17: exit 0, like migrate-mongo, umzug, Flyway).
    const again = await run(['up'], env);
    expect(again.code).toBe(ExitCode.success);
    expect(again.stdout).toContain('Nothing to migrate');

    // Nothing to preview, as for a plain preview with nothing pending (exit 5), whether named or not.
    const previewApplied = await run(['preview', '004'], env);
    expect([previewApplied.code, previewApplied.stdout]).toEqual([ExitCode.nothingToDo, `Migration: ${ID}\n  already applied; nothing to preview\n`]);
    expect((await run(['preview'], env)).code).toBe(ExitCode.nothingToDo);

    const named = await run(['up', '004'], env);
    expect(named.code).toBe(ExitCode.badInput);
    expect(named.stderr).toContain(`Migration ${ID} is already completed`);

    const status = await run(['status'], env);
    expect(status.code).toBe(ExitCode.success);
    expect(status.stdout).toMatch(new RegExp(`${ID}\\s+applied\\s+\\d{4}-\\d\\d-\\d\\d`));
    expect(status.stdout).toContain('Migration needed: no');

    const down = await run(['down', '--yes'], env);
    expect(down.code).toBe(ExitCode.success);
    expect(down.stdout).toContain(`restored ${targets.toLocaleString('en-US')}, conflicts 0`);

    const after = await run(['status', '--json'], env);
    const report = JSON.parse(after.stdout) as { result: { needed: boolean; migrations: Array<{ state: string }> } };
    expect(report.result.needed).toBe(true);
    expect(report.result.migrations[0]?.state).toBe('rolled_back');

    const history = await run(['history'], env);
    expect(history.stdout).toMatch(/down\s+rolled_back/);
    expect(history.stdout).toMatch(/up\s+applied/);

    const nothing = await run(['down', '--yes'], env);
    expect(nothing.code).toBe(ExitCode.nothingToDo);
    expect(nothing.stderr).toContain('nothing to roll back');
  });

  it.each([
    ['an unknown command', ['frobnicate'], ExitCode.badInput, /Unknown argument: frobnicate/],
    ['an unknown target', ['up', '042'], ExitCode.badInput, /No migration matches "042"/],
    ['an unknown option', ['up', '--frobnicate'], ExitCode.badInput, /Unknown argument/],
    ['a bad step', ['up', '--step', '0'], ExitCode.badInput, /step must be a positive whole number/],
    ['a bad URI', ['status', '--uri', 'http://nope'], ExitCode.badInput, /connection string is invalid/],
    ['a URI with an empty host', ['status', '--uri', 'mongodb://127.0.0.1:9,/x'], ExitCode.badInput, /connection string is invalid: its host list has an empty entry/],
    ['an unreachable server', ['status', '--uri', 'mongodb://127.0.0.1:9/x', '--connect-timeout', '500'], ExitCode.unreachable, /not reachable/],
    ['down without --yes when not interactive', ['down'], ExitCode.badInput, /pass --yes/],
    ['a missing migrations folder', ['status', '--migrations', '/nonexistent/dir'], ExitCode.badInput, /neither a folder nor an installed package/],
    ['a broken migrations folder', ['up', '--migrations', path.join(FIXTURES, 'dup')], ExitCode.badInput, /Duplicate migration number/],
  ])('rejects %s with a clear message, its exit code, and no writes', async (_label, args, code, message) => {
    await seedSampleData(t.db, { tokens: 200, seed: 3 });
    await run(['up'], env);
    const before = await snapshot(t.db);
    const result = await run(args, env);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^Error: /);
    expect(await snapshot(t.db)).toEqual(before);
  });

  it('reports bad input as JSON with --json', async () => {
    const result = await run(['up', '042', '--json'], env);
    expect(result.code).toBe(ExitCode.badInput);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { code: 'MIGRATION_NOT_FOUND' } });
  });

  it('a held lock: up waits --lock-timeout then exits 3 naming the holder; unlock needs --force for a live lease', async () => {
    const locks = t.db.collection<{ _id: string; fence: ObjectId } & Document>('migration_locks');
    const far = new Date(Date.now() + 3600_000);
    await locks.insertOne({ _id: 'migrations', fence: new ObjectId(), owner: { runId: 'r1', host: 'other-host', pid: 4242, user: 'ops' }, acquiredAt: new Date(), expiresAt: far });
    const up = await run(['up', '--lock-timeout', '1'], env);
    expect(up.code).toBe(ExitCode.locked);
    expect(up.stderr).toMatch(/held by host other-host, pid 4242/);
    // Said once when the wait starts, not once per poll, whichever command waits.
    expect(up.stderr.match(/Waiting for the migration lock, held by host other-host, pid 4242 \(user ops\), its lease runs to .*Giving up 1 s after the wait began \(--lock-timeout\)/g)).toHaveLength(1);
    const baseline = await run(['baseline', '004', '--lock-timeout', '1'], env);
    expect(baseline.code).toBe(ExitCode.locked);
    expect(baseline.stderr.match(/Waiting for the migration lock, held by host other-host/g)).toHaveLength(1);
    expect(await t.db.collection('cashu_tokens').countDocuments()).toBe(0);
    const unlock = await run(['unlock'], env);
    expect(unlock.code).toBe(ExitCode.locked);
    expect(unlock.stderr).toContain('--force');
    // Its only way out is --force: not the plain unlock that was just refused, and said once.
    expect(unlock.stderr).toContain('Next: `migrate unlock --force` (only if that process is gone).');
    expect(unlock.stderr.match(/unlock/g)).toHaveLength(3);
    const forced = await run(['unlock', '--force'], env);
    expect(forced.code).toBe(ExitCode.success);
    expect(forced.stdout).toContain('Removed the live lock of host other-host, pid 4242');
    expect(await locks.countDocuments()).toBe(0);
    await locks.insertOne({ _id: 'migrations', fence: new ObjectId(), owner: { runId: 'r2', host: 'gone', pid: 1, user: 'ops' }, acquiredAt: new Date(0), expiresAt: new Date(1000) });
    expect((await run(['unlock'], env)).stdout).toContain('Removed the expired lock of host gone');
    expect((await run(['unlock'], env)).code).toBe(ExitCode.nothingToDo);
  });

  describe('with a folder of its own', () => {
    let dir: string;
    beforeAll(async () => {
      dir = path.join(await mkdtemp(path.join(tmpdir(), 'mongrate-cli-')), 'basic');
    });
    afterAll(async () => {
      await rm(path.dirname(dir), { recursive: true, force: true });
    });

    it('create writes the next number; drift makes verify, status and up exit 4 with nothing written', async () => {
      await rm(dir, { recursive: true, force: true });
      await cp(path.join(FIXTURES, 'basic'), dir, { recursive: true });
      const create = await run(['create', 'Add wallet index!', '--migrations', dir], env);
      expect(create.code).toBe(ExitCode.success);
      const file = path.join(dir, '004_add_wallet_index.ts');
      expect(create.stdout).toContain(file);
      expect(await readFile(file, 'utf8')).toContain("export const description = 'add wallet index';");
      const dup = await run(['create', '9lives', '--migrations', dir], env);
      expect(dup.code).toBe(ExitCode.badInput);

      const up = await run(['up', '--migrations', dir, '--to', '003'], env);
      expect(up.code).toBe(ExitCode.success);
      expect((await run(['verify', '--migrations', dir], env)).code).toBe(ExitCode.success);
      await appendFile(path.join(dir, '002_add_wallets.ts'), '\n// edited after it ran\n');
      const before = await snapshot(t.db);
      const verify = await run(['verify', '--migrations', dir], env);
      expect(verify.code).toBe(ExitCode.drift);
      expect(verify.stdout).toMatch(/basic\/002_add_wallets\s+file changed since it ran/);
      expect((await run(['status', '--migrations', dir], env)).code).toBe(ExitCode.drift);
      const blocked = await run(['up', '--migrations', dir], env);
      expect(blocked.code).toBe(ExitCode.drift);
      expect(blocked.stderr).toContain('--allow-drift');
      expect(await snapshot(t.db)).toEqual(before);
      const allowed = await run(['up', '--migrations', dir, '--allow-drift'], env);
      expect(allowed.code).toBe(ExitCode.success);
      expect(allowed.stdout).toContain('Applied basic/004_add_wallet_index');
      // A source left out of --migrations is named as such, not as files to restore.
      const without = await run(['up', '--migrations', path.join(FIXTURES, 'extra')], env);
      expect(without.code).toBe(ExitCode.drift);
      expect(without.stderr).toContain('No loaded source has the namespace "basic"');
      expect(without.stderr).toContain('name every source with `--migrations`');
    });
  });

  it('a password in --uri appears in no output, log or stored record', async () => {
    const password = 'Sup3r-S3cret-Pa55';
    await t.client.db('admin').command({ createUser: `u_${t.name}`, pwd: password, roles: [{ role: 'root', db: 'admin' }] });
    const url = new URL(t.uri);
    url.username = `u_${t.name}`;
    url.password = password;
    url.searchParams.set('authSource', 'admin');
    const secretEnv = { MONGODB_URI: '' };
    await seedSampleData(t.db, { tokens: 300, seed: 4 });
    const outputs: Finished[] = [];
    for (const args of [['preview'], ['up'], ['status', '--json'], ['history'], ['down', '--yes'], ['verify']]) {
      outputs.push(await run([...args, '--uri', url.toString(), '--log-level', 'debug', '--log-format', 'json'], secretEnv));
    }
    // A failing migration whose own error message carries a connection string with a password.
    await t.db.collection<{ _id: string }>('switches').insertOne({ _id: 'fail' });
    outputs.push(await run(['up', '--migrations', path.join(FIXTURES, 'failing'), '--uri', url.toString(), '--log-level', 'debug'], secretEnv));
    // A bad URI with a password, and an unreachable one.
    outputs.push(await run(['status', '--uri', `mongodb://admin:${password}@[bad`], secretEnv));
    outputs.push(await run(['status', '--uri', `mongodb://admin:${password}@127.0.0.1:9/x`, '--connect-timeout', '300'], secretEnv));
    expect(outputs.map((o) => o.code)).toEqual([0, 0, 0, 0, 0, 0, ExitCode.failed, ExitCode.badInput, ExitCode.unreachable]);
    for (const o of outputs) {
      expect(o.stdout).not.toContain(password);
      expect(o.stderr).not.toContain(password);
      expect(o.stderr).not.toContain('hunter2');
    }
    expect(outputs[6]?.stderr).toContain('simulated failure');
    expect(outputs[6]?.stderr).toContain('mongodb://<credentials>@db.example');
    for (const name of (await t.db.listCollections().toArray()).map((c) => c.name)) {
      const dump = JSON.stringify(await t.db.collection(name).find().toArray());
      expect(dump).not.toContain(password);
      expect(dump).not.toContain('hunter2');
    }
    await t.client.db('admin').command({ dropUser: `u_${t.name}` });
  });

  it('SIGINT mid-run stops at a batch boundary, records the state, releases the lock, exits 130; a rerun resumes', async () => {
    await seedSampleData(t.db, { tokens: 6000, seed: 5 });
    const original = await collectionHash(t.db.collection('cashu_tokens'));
    const targets = await t.db.collection('cashu_tokens').countDocuments({ transaction_type: 'melted', status: 'unspent' });
    const child = migrate(['up', '--batch-size', '10', '--log-level', 'info'], env);
    const record = () => t.db.collection('migrations').findOne({ _id: ID as never });
    for (let i = 0; ; i++) {
      const progress = ((await record())?.checkpoint as { batches?: number } | undefined)?.batches ?? 0;
      if (progress >= 3) break;
      if (i > 2000) throw new Error('the run made no progress');
      await sleep(10);
    }
    child.kill('SIGINT');
    // A wrapper (`pnpm migrate`, a shell script) may forward copies of the same Ctrl-C late, even while the process
    // records the stop and exits: they are the same interrupt, neither a forced exit nor a kill by the default action.
    let exited = false;
    const copies = (async () => {
      for (const until = Date.now() + 700; Date.now() < until && !exited; await sleep(2)) child.kill('SIGINT');
    })();
    const { code, stderr } = await child.done;
    exited = true;
    await copies;
    expect({ code, stderr }).toMatchObject({ code: ExitCode.interrupted });
    expect(stderr).not.toContain('Second SIGINT');
    expect(stderr).toMatch(/stopping at the next batch boundary/);
    expect(stderr).toMatch(/Run the same command again to resume/);
    const stopped = await record();
    expect(stopped).toMatchObject({ status: 'failed', direction: 'up' });
    const done = (stopped?.checkpoint as { updated: number }).updated;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(targets);
    expect(await t.db.collection('migration_locks').countDocuments()).toBe(0);
    expect((await t.db.collection('migration_history').findOne({}))?.outcome).toBe('interrupted');

    const rerun = await run(['up', '--json'], env);
    expect(rerun.code).toBe(ExitCode.success);
    expect(JSON.parse(rerun.stdout).result.migrations[0].counts).toMatchObject({ flipped: targets, remaining: 0 });
    expect(await t.db.collection('cashu_tokens').countDocuments({ transaction_type: 'melted', status: 'unspent' })).toBe(0);
    expect((await run(['down', '--yes'], env)).code).toBe(ExitCode.success);
    expect(await collectionHash(t.db.collection('cashu_tokens'))).toBe(original);
  });

  it('runs nctool migrations given as a plugin package name', async () => {
    const byPackage = await run(['status', '--migrations', '@nctool/migrations'], env);
    expect(byPackage.code).toBe(ExitCode.success);
    expect(byPackage.stdout).toContain(ID);
    expect(NCTOOL_MIGRATIONS).toContain('migrations');
  });

  describe('the contract for deploy scripts', () => {
    const BASIC = path.join(FIXTURES, 'basic');

    it('three concurrent `up`s all exit 0, each migration runs once, and a later `up` exits 0 saying it is up to date', async () => {
      const runs = await Promise.all([1, 2, 3].map(() => run(['up', '--json', '--migrations', BASIC, '--lease', '5'], env)));
      expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
      const results = runs.map((r) => JSON.parse(r.stdout) as { ok: boolean; result: { nothingToDo: boolean; migrations: Array<{ id: string }> } });
      expect(results.every((r) => r.ok)).toBe(true);
      expect(results.flatMap((r) => r.result.migrations.map((m) => m.id)).sort()).toEqual(['basic/001_create_users', 'basic/002_add_wallets', 'basic/003_backfill_units']);
      const probes = await t.db.collection('probe').aggregate<{ _id: string; n: number }>([{ $group: { _id: '$migration', n: { $sum: 1 } } }]).toArray();
      expect(probes.map((p) => p.n)).toEqual([1, 1, 1]);
      const again = await run(['up', '--json', '--migrations', BASIC], env);
      expect(again.code).toBe(ExitCode.success);
      expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, result: { nothingToDo: true, migrations: [] } });
      expect((await run(['up', '--migrations', BASIC], env)).stdout).toContain('Nothing to migrate: the database is up to date.');
    });

    it('`up <id>` of an applied migration stays an error with its remedy', async () => {
      expect((await run(['up', '--migrations', BASIC], env)).code).toBe(ExitCode.success);
      const named = await run(['up', '001', '--migrations', BASIC], env);
      expect(named.code).toBe(ExitCode.badInput);
      expect(named.stderr).toMatch(/already/i);
    });

    it('`status --fail-on-pending` (alias --check) exits 7 while migrations are pending, 0 once none are', async () => {
      const pending = await run(['status', '--fail-on-pending', '--migrations', BASIC], env);
      expect(pending.code).toBe(ExitCode.pending);
      expect(pending.stdout).toContain('pending');
      expect((await run(['status', '--check', '--migrations', BASIC], env)).code).toBe(ExitCode.pending);
      expect((await run(['status', '--migrations', BASIC], env)).code).toBe(ExitCode.success);
      expect((await run(['up', '--migrations', BASIC], env)).code).toBe(ExitCode.success);
      expect((await run(['status', '--fail-on-pending', '--migrations', BASIC], env)).code).toBe(ExitCode.success);
    });
  });
  it('status names a partly applied and a partly reverted migration, with the ways out, and never calls it up to date', async () => {
    await seedSampleData(t.db, { tokens: 3000, seed: 31 });
    const kill = (direction: 'up' | 'down') =>
      killAtBatch({ uri: serverUri(), dbName: t.name, dir: NCTOOL_MIGRATIONS, direction, batchSize: 10, leaseMs: 5000, afterBatches: 2 });
    expect((await kill('up')).killed).toBe(true);
    const applying = await run(['status'], env);
    expect(applying.stdout).toContain(`${ID} is partly applied (applying): run \`migrate up\` to resume it`);
    expect((await run(['up'], env)).code).toBe(ExitCode.success);
    expect((await kill('down')).killed).toBe(true);
    const reverting = await run(['status'], env);
    expect(reverting.code).toBe(ExitCode.success);
    expect(reverting.stdout).toContain(`${ID} is partly reverted (reverting): run \`migrate down ${ID}\` again to finish the rollback.`);
    expect(reverting.stdout).toContain(`Or \`migrate up ${ID}\` re-applies it.`);
    expect(reverting.stdout).not.toContain('up to date');
  });
});
