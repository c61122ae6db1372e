import { link, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import {
  AuthenticationFailedError,
  DatabaseNotReadyError,
  PartialMigrationError,
  authenticationFailure,
  configFromEnv,
  createLogger,
  findOutOfOrder,
  hasPassword,
  findConfigFiles,
  loadConfig,
  type LoadedMigration,
  type MigrationRecord,
  type RunResult,
} from '@mongrate/core';
import { ExitCode, SAME_INTERRUPT_WINDOW_MS, renderRemedies, renderRemedy, reportError, runCli, whereFlags, type CliIo } from '@mongrate/cli';
import { ForcedExit, interruptible } from '../../packages/cli/src/interrupt.js';
import { renderLockWait, renderRun, renderStatus, renderVerify } from '../../packages/cli/src/render.js';

/** A CliIo whose output is collected and whose signals the test sends. */
function fakeIo(cwd: string, env: NodeJS.ProcessEnv = {}) {
  const out = { stdout: '', stderr: '' };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const listeners = new Set<(s: NodeJS.Signals) => void>();
  const io: CliIo = {
    stdout,
    stderr,
    stdin: new PassThrough(),
    env,
    cwd,
    interactive: false,
    tty: false,
    onSignal(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { io, out, signal: (s: NodeJS.Signals = 'SIGINT') => [...listeners].forEach((l) => l(s)), listeners };
}

const quiet = createLogger({ level: 'error' });

describe('CLI without a database', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mongrate-cli-unit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('Ctrl-C', () => {
    it('the same Ctrl-C delivered twice (to a wrapper and this process) is one graceful stop', async () => {
      const { io, signal, listeners } = fakeIo(dir);
      const result = interruptible(io, quiet, (abort) => new Promise<string>((resolve) => abort.addEventListener('abort', () => setImmediate(() => resolve('stopped at a batch boundary')))));
      signal();
      signal();
      await expect(result).resolves.toBe('stopped at a batch boundary');
      expect(listeners.size).toBe(0);
    });

    it('a second, separate Ctrl-C abandons the run at once', async () => {
      const { io, signal } = fakeIo(dir);
      let aborted = false;
      const result = interruptible(io, quiet, (abort) => {
        abort.addEventListener('abort', () => (aborted = true));
        return new Promise<never>(() => undefined); // a batch that never ends
      });
      signal();
      await sleep(SAME_INTERRUPT_WINDOW_MS + 100);
      signal();
      await expect(result).rejects.toBeInstanceOf(ForcedExit);
      expect(aborted).toBe(true);
    });
  });

  describe('remedies', () => {
    it('render API calls and options as commands and flags', () => {
      expect(renderRemedy({ call: 'down', options: { to: 'ns/004_x' } })).toBe('migrate down --to ns/004_x');
      expect(renderRemedy({ call: 'up', options: { migration: 'ns/004_x', allowOutOfOrder: true } })).toBe('migrate up ns/004_x --allow-out-of-order');
      expect(renderRemedy({ options: { allowDrift: true } })).toBe('--allow-drift');
      expect(renderRemedy({ call: 'unlock', options: { force: true, dryRun: false } })).toBe('migrate unlock --force');
      expect(renderRemedy({ options: { uri: true } })).toBe('MONGODB_URI (or --uri)');
      const error = Object.assign(new Error('x'), { remedies: [{ call: 'down', options: { to: 'a' } }, { call: 'up', options: { migration: 'a' } }] });
      expect(renderRemedies(error)).toBe('Next: `migrate down --to a --yes`; `migrate up a`.');
      const why = Object.assign(new Error('x'), { remedies: [{ call: 'verify' }, { options: { allowDrift: true }, why: 'It runs despite the drift.' }] });
      expect(renderRemedies(why)).toBe('Next: `migrate verify`; `--allow-drift` runs despite the drift.');
      expect(renderRemedies(new Error('no remedies'))).toBeUndefined();
    });

    it('repeat the flags that chose what the command acted on, quoted for the shell; a --uri with a password only as a placeholder', () => {
      const where = whereFlags(['down', '004', '--uri', 'mongodb://u:pw@h/db', '--migrations', './db/migrations', '--database=app two', '--migrations', '@acme/plugin', '--config', "it's.json", '--yes']);
      expect(where).toBe("--uri '<the connection string you passed>' --migrations ./db/migrations --database 'app two' --migrations @acme/plugin --config 'it'\\''s.json'");
      expect(where).not.toContain('pw');
      expect(whereFlags(['up', '--uri=mongodb://localhost:27017/app?w=majority&x=1'])).toBe("--uri 'mongodb://localhost:27017/app?w=majority&x=1'");
      // No path, nothing secret: printed as given (the parser's added '/' is no secret).
      expect(whereFlags(['status', '--uri', 'mongodb://127.0.0.1:43381', '--database', 'app'])).toBe('--uri mongodb://127.0.0.1:43381 --database app');
      // A user name, an empty password or a token is a secret too: the placeholder, never a command the shell misreads.
      for (const uri of ['mongodb://alice@db.example.com/app', 'mongodb://u:@h/db', 'mongodb://h/db?authMechanismProperties=AWS_SESSION_TOKEN:abc']) {
        expect(whereFlags(['up', '--uri', uri])).toBe("--uri '<the connection string you passed>'");
      }
      const error = Object.assign(new Error('x'), { remedies: [{ call: 'down', options: { to: 'a' } }, { options: { uri: true } }] });
      expect(renderRemedies(error, '--database app')).toBe('Next: `migrate down --to a --yes --database app`; check the connection string (MONGODB_URI, MONGRATE_URI, --uri or the config file\'s uri/uriEnv).');
      // A reason that only repeats "check the connection string" is not said twice; another one follows it.
      const lead = "Next: check the connection string (MONGODB_URI, MONGRATE_URI, --uri or the config file's uri/uriEnv)";
      expect(renderRemedies(Object.assign(new Error('x'), { remedies: [{ options: { uri: true }, why: 'Check the connection string.' }] }))).toBe(`${lead}.`);
      expect(renderRemedies(Object.assign(new Error('x'), { remedies: [{ options: { uri: true }, why: 'Supply the right credentials.' }] }))).toBe(`${lead}: supply the right credentials.`);
      const message = reportError(new PartialMigrationError('ns/004_x', 'failed'), '--database app').message;
      expect(message).toContain('`migrate down ns/004_x --yes --database app` reverts it; `migrate up --database app` finishes it.');
      expect(whereFlags(['up', '--json'])).toBe('');
      // A path's ".." is the path's, not a doubled full stop.
      expect(reportError(new PartialMigrationError('ns/004_x', 'failed'), "--migrations 'a.. b'").message).toContain("`migrate up --migrations 'a.. b'`");
    });
  });

  describe('lock wait', () => {
    it('names the holder, the lease end and the wait, and says when a dead holder is taken over', () => {
      const line = renderLockWait({ runId: 'r', host: 'h', pid: 7, user: 'ops', expiresAt: new Date(Date.UTC(2030, 0, 1, 0, 1)) }, 120_000);
      expect(line).toBe(
        'Waiting for the migration lock, held by host h, pid 7 (user ops), its lease runs to 2030-01-01 00:01:00Z unless renewed. Giving up 120 s after the wait began (--lock-timeout); a holder that has died is taken over once its lease expires, if that comes first.',
      );
    });
  });

  describe('authentication', () => {
    it('driver code 18 is an authentication failure naming the user, exit 8; never the password; one full stop', () => {
      const driverError = Object.assign(new Error('Authentication failed.'), { code: 18 });
      const failure = authenticationFailure('mongodb://bob:s3cret@db.example:27017/app?authSource=admin', driverError);
      expect(failure).toBeInstanceOf(AuthenticationFailedError);
      const report = reportError(failure);
      expect(report.exitCode).toBe(ExitCode.authFailed);
      expect(report.message).toContain('"bob"');
      expect(report.message).not.toContain('s3cret');
      expect(authenticationFailure('mongodb://bob:s3cret@db/app', Object.assign(new Error('timeout'), { code: 89 }))).toBeUndefined();
      expect(new DatabaseNotReadyError('Authentication failed.').message).not.toContain('..');
      expect(hasPassword('mongodb://bob:s3cret@db/app')).toBe(true);
      expect(hasPassword('mongodb://bob@db/app')).toBe(false);
    });
  });

  describe('rendering', () => {
    it('a rollback that found its targets reverted by another process says so', () => {
      expect(renderRun({ direction: 'down', migrations: [], nothingToDo: true })).toContain('another process');
    });

    it('a migration supplies its own summary; otherwise counts are shown generically, with no migration-specific names', () => {
      const result: RunResult = { direction: 'up', migrations: [{ id: 'ns/001_a', counts: { flipped: 3 }, durationMs: 5 }], nothingToDo: false };
      expect(renderRun(result)).toMatch(/^Applied ns\/001_a in 5 ms\n {2}counts: flipped 3/);
      expect(renderRun(result, new Map([['ns/001_a', 'fixed 3 tokens']]))).toContain('Applied ns/001_a in 5 ms: fixed 3 tokens');
    });
  });

  describe('config', () => {
    it('is found from a subfolder upwards, with paths made absolute; MONGRATE_* are checked the same way', async () => {
      await mkdir(path.join(dir, 'a', 'b'), { recursive: true });
      await mkdir(path.join(dir, 'db', 'migrations'), { recursive: true });
      await writeFile(path.join(dir, 'mongrate.config.mjs'), "export default { migrations: ['./db/migrations', '@acme/plugin'], leaseMs: 5000, uriEnv: 'DATABASE_URL' };\n");
      const loaded = await loadConfig({ cwd: path.join(dir, 'a', 'b') });
      expect(loaded.file).toBe(path.join(dir, 'mongrate.config.mjs'));
      expect(loaded.config).toEqual({ migrations: [path.join(dir, 'db', 'migrations'), '@acme/plugin'], leaseMs: 5000, uriEnv: 'DATABASE_URL' });
      expect(configFromEnv({ MONGRATE_BATCH_SIZE: '50', MONGRATE_MIGRATIONS: 'a,b', MONGRATE_ALLOW_OUT_OF_ORDER: 'true', OTHER: 'x' })).toEqual({
        config: { batchSize: 50, migrations: ['a', 'b'], allowOutOfOrder: true },
        names: { batchSize: 'MONGRATE_BATCH_SIZE', migrations: 'MONGRATE_MIGRATIONS', allowOutOfOrder: 'MONGRATE_ALLOW_OUT_OF_ORDER' },
      });
      expect(() => configFromEnv({ MONGRATE_LEASE_MS: '-1' })).toThrow(/MONGRATE_LEASE_MS.*whole number of milliseconds from 1000/);
    });
  });

  describe('out-of-order', () => {
    const m = (namespace: string, name: string) => ({ id: `${namespace}/${name}`, namespace, name }) as unknown as LoadedMigration;
    const applied = (id: string) => ({ _id: id, status: 'applied' }) as unknown as MigrationRecord;
    it('is a never-run migration sorting before an applied one of the same source; other sources and earlier records do not count', () => {
      const [a1, a2, a3, b1] = [m('a', '001_x'), m('a', '002_y'), m('a', '003_z'), m('b', '001_p')] as [LoadedMigration, LoadedMigration, LoadedMigration, LoadedMigration];
      const all = [a1, a2, a3, b1];
      expect(findOutOfOrder(all, [applied('a/001_x'), applied('a/003_z')], [a2, b1])).toEqual([{ id: 'a/002_y', lastApplied: 'a/003_z' }]);
      // A plugin applied first never blocks another source.
      expect(findOutOfOrder(all, [applied('b/001_p')], [a1, a2, a3])).toEqual([]);
      // A migration with a record (rolled back, or failed and resumed) ran here before: not out of order.
      expect(findOutOfOrder(all, [applied('a/003_z'), { _id: 'a/002_y', status: 'rolled_back' } as unknown as MigrationRecord], [a1, a2])).toEqual([{ id: 'a/001_x', lastApplied: 'a/003_z' }]);
    });
  });

  describe('runCli in-process', () => {
    it('create in a new app makes the default ./migrations folder and writes a file its package can load; a bare name that is no folder stays bad input', async () => {
      await writeFile(path.join(dir, 'package.json'), '{"type":"module"}');
      const { io, out } = fakeIo(dir);
      expect(await runCli(['create', 'first'], io)).toBe(ExitCode.success);
      expect(out.stdout).toContain(`Created folder ${path.join(dir, 'migrations')}`);
      expect(await readdir(path.join(dir, 'migrations'))).toEqual(['001_first.js']);
      const bare = fakeIo(dir);
      expect(await runCli(['create', 'x', '--migrations', 'not-there'], bare.io)).toBe(ExitCode.badInput);
      expect(bare.out.stderr).toContain('"not-there" is neither a folder nor an installed package');
      expect(await readdir(dir)).toEqual(['migrations', 'package.json']);
    });

    it('never exits the process: create --ext js (with --migrations before the command) returns a code and writes through io', async () => {
      const folder = path.join(dir, 'm');
      await mkdir(folder);
      const { io, out } = fakeIo(dir);
      expect(await runCli(['--migrations', folder, 'create', 'add thing', '--ext', 'js'], io)).toBe(ExitCode.success);
      expect(out.stdout).toContain(path.join(folder, '001_add_thing.js'));
      expect(await readdir(folder)).toEqual(['001_add_thing.js']);
      expect(await readFile(path.join(folder, '001_add_thing.js'), 'utf8')).toContain('export async function up(ctx) {');
      expect(await runCli(['create', 'next', '--migrations', folder], io)).toBe(ExitCode.success);
      expect(await readdir(folder)).toEqual(['001_add_thing.js', '002_next.js']);
    });

    it('a config file template is used by create; a bad config is bad input naming the file', async () => {
      const folder = path.join(dir, 'm');
      await mkdir(folder);
      await writeFile(path.join(dir, 'tpl.txt'), '// custom {{name}}: {{description}}\nexport async function up() {}\nexport async function down() {}\n');
      await writeFile(path.join(dir, 'mongrate.config.json'), JSON.stringify({ migrations: ['m'], template: 'tpl.txt' }));
      const { io } = fakeIo(dir);
      expect(await runCli(['create', 'first one', '--ext', 'mjs'], io)).toBe(ExitCode.success);
      expect(await readFile(path.join(folder, '001_first_one.mjs'), 'utf8')).toContain('// custom first_one: first one');
      await writeFile(path.join(dir, 'mongrate.config.json'), JSON.stringify({ migrations: 5 }));
      const bad = fakeIo(dir);
      expect(await runCli(['create', 'x'], bad.io)).toBe(ExitCode.badInput);
      expect(bad.out.stderr).toContain(path.join(dir, 'mongrate.config.json'));
    });

    it('two config files in one folder are bad input naming both, unless one is named; nothing is guessed', async () => {
      await mkdir(path.join(dir, 'm'));
      await writeFile(path.join(dir, 'mongrate.config.json'), JSON.stringify({ batchSize: 7, migrations: ['m'] }));
      await writeFile(path.join(dir, 'mongrate.config.mjs'), "export default { batchSize: 9, migrations: ['n'] };\n");
      await expect(loadConfig({ cwd: dir })).rejects.toThrow(/2 config files .*mongrate\.config\.mjs, mongrate\.config\.json.*`file` option/);
      expect((await loadConfig({ cwd: dir, file: 'mongrate.config.json' })).config).toEqual({ batchSize: 7, migrations: [path.join(dir, 'm')] });
      const bad = fakeIo(dir);
      expect(await runCli(['create', 'x'], bad.io)).toBe(ExitCode.badInput);
      expect(bad.out.stderr).toMatch(/mongrate\.config\.mjs, mongrate\.config\.json.*--config \(or MONGRATE_CONFIG\)/);
      expect(await readdir(path.join(dir, 'm'))).toEqual([]);
      const named = fakeIo(dir);
      expect([await runCli(['create', 'x', '--ext', 'mjs', '--config', 'mongrate.config.json'], named.io), named.out.stderr]).toEqual([ExitCode.success, '']);
      expect(await readdir(path.join(dir, 'm'))).toEqual(['001_x.mjs']);
    });

    it('config discovery: a link to the config file and a folder named like one are not a second file; empty --config and a missing MONGRATE_CONFIG are bad input naming their source', async () => {
      await writeFile(path.join(dir, 'mongrate.config.json'), JSON.stringify({ batchSize: 7 }));
      await symlink(path.join(dir, 'mongrate.config.json'), path.join(dir, 'mongrate.config.cjs'));
      await mkdir(path.join(dir, 'mongrate.config.mjs'));
      expect(findConfigFiles(dir)).toEqual([path.join(dir, 'mongrate.config.json')]);
      expect((await loadConfig({ cwd: dir })).config).toEqual({ batchSize: 7 });
      await rm(path.join(dir, 'mongrate.config.cjs'));
      await link(path.join(dir, 'mongrate.config.json'), path.join(dir, 'mongrate.config.cjs'));
      expect(findConfigFiles(dir)).toHaveLength(1);
      await expect(loadConfig({ cwd: dir, file: 'mongrate.config.mjs' })).rejects.toThrow(/is a folder: name the config file itself/);
      const empty = fakeIo(dir);
      expect(await runCli(['create', 'x', '--config='], empty.io)).toBe(ExitCode.badInput);
      expect(empty.out.stderr).toContain('--config is empty');
      const missing = fakeIo(dir, { MONGRATE_CONFIG: 'nope.json' });
      expect(await runCli(['create', 'x'], missing.io)).toBe(ExitCode.badInput);
      expect(missing.out.stderr).toContain(`MONGRATE_CONFIG names ${path.join(dir, 'nope.json')}, which does not exist`);
      expect(await readdir(dir)).not.toContain('migrations');
    });
  });
});

describe('backup reports (issue 12)', () => {
  it('status names parked conflicts; verify tables backups and explains orphaned and left-over ones', () => {
    const status = renderStatus({
      migrations: [{ id: 'ns/004_x', state: 'rolled_back', hasPreview: false, parkedConflicts: 3 }],
      pending: 1,
      needed: true,
      drift: [],
      outOfOrder: [],
    });
    expect(status).toContain('ns/004_x has 3 parked conflicts');
    const verify = renderVerify({
      ok: true,
      drift: [],
      checked: 1,
      backups: [
        { migrationId: 'ns/004_x', state: 'applied', live: 20, conflicts: 0, orphaned: 2 },
        { migrationId: 'ns/005_y', state: 'rolled_back', live: 1, conflicts: 4, orphaned: 1 },
      ],
    });
    expect(verify).toContain('ns/004_x: 2 backups belong to documents that no longer hold what `up` wrote');
    expect(verify).toContain('ns/005_y is rolled_back but has 1 live backups');
    expect(verify).toContain('ns/005_y: 4 parked conflicts');
  });

  it('the commands status and verify suggest repeat the flags that chose what they acted on', () => {
    const where = "--migrations 'my migrations' --database shop";
    const migrations = [{ id: 'ns/004_x', state: 'applied', hasPreview: false, parkedConflicts: 1 }] as const;
    const lock = { holder: { runId: 'r', host: 'h', pid: 1, expiresAt: new Date(0) }, expired: true };
    const status = renderStatus({ migrations, pending: 1, needed: true, drift: [], outOfOrder: [], lock }, where);
    for (const command of ['preview', 'up', 'verify', 'unlock']) expect(status).toContain(`\`migrate ${command} ${where}\``);
    const verify = renderVerify({ ok: false, checked: 1, drift: [{ id: 'ns/004_x', kind: 'changed', recordedChecksum: 'a', currentChecksum: 'b' }], backups: [{ migrationId: 'ns/004_x', state: 'rolled_back', live: 2, conflicts: 0, orphaned: 0 }] }, where);
    expect(verify).toContain(`\`migrate repair --reason … ${where}\``);
    // A missing file is not accepted by a checksum repair: its own way out.
    const gone = renderVerify({ ok: false, checked: 1, drift: [{ id: 'ns/001_a', kind: 'missing', recordedChecksum: 'a' }], backups: [] });
    expect(gone).toContain('if ns/001_a was deleted on purpose, `migrate repair ns/001_a --resolve pending --reason …` clears it.');
    expect(gone).not.toContain('cosmetic edit');
    expect(verify).toContain(`\`migrate down ns/004_x ${where}\``);
  });

  it("status says why a partly run migration's last attempt stopped: the recorded error's first sentence", () => {
    const record = { _id: 'ns/002_x', status: 'failed', direction: 'up', error: 'Migration ns/002_x failed during up: E11000 duplicate key. Fix the data. More.' };
    const status = renderStatus({ migrations: [{ id: 'ns/002_x', state: 'failed', hasPreview: false, record: record as never }], pending: 1, needed: true, drift: [], outOfOrder: [] });
    expect(status).toContain('ns/002_x is partly applied (failed: Migration ns/002_x failed during up: E11000 duplicate key): run `migrate up` to resume it');
  });

  it('status says what keeps up from running (drift, a migration out of order) instead of suggesting an up that refuses', () => {
    const migrations = [{ id: 'ns/002_x', state: 'pending', hasPreview: false }] as const;
    const drifted = renderStatus({ migrations, pending: 1, needed: true, drift: [{ id: 'ns/001_a', kind: 'changed', recordedChecksum: 'a' }], outOfOrder: [] });
    expect(drifted).toContain('Migration needed: yes (1 pending). `migrate up` refuses to run while applied migrations differ from their files');
    expect(drifted).toContain('`migrate up --allow-drift` runs despite it');
    expect(drifted).not.toContain('Run `migrate preview`');
    const early = renderStatus({ migrations, pending: 1, needed: true, drift: [], outOfOrder: [{ id: 'ns/002_x', lastApplied: 'ns/003_y' }] });
    expect(early).toContain('`migrate up` refuses to run: ns/002_x sorts before the applied ns/003_y. `migrate up ns/002_x --allow-out-of-order` applies it');
    expect(early).not.toContain('Run `migrate preview`');
    // With allowOutOfOrder set, up applies it: nothing blocks.
    const allowed = renderStatus({ migrations, pending: 1, needed: true, drift: [], outOfOrder: [{ id: 'ns/002_x', lastApplied: 'ns/003_y' }] }, '', { allowOutOfOrder: true });
    expect(allowed).toContain('Run `migrate preview`, then `migrate up` (ns/002_x out of order: allowOutOfOrder is set).');
  });
});

