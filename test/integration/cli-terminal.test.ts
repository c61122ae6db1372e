import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ExitCode } from '@mongrate/cli';
import { seedSampleData } from '@nctool/cashu-models/sample-data';
import { openTestDatabase, type TestDatabase } from '../support/database.js';
import { MIGRATE_BIN, migrate } from '../support/cli.js';
import { REPO_ROOT } from '../support/server.js';

const ID = 'nctool/004_fix_melted_token_status';
const exec = promisify(execFile);

/**
 * A real pseudo-terminal: tmux runs the command in a session on a server of our own; `send-keys C-c` types Ctrl-C,
 * so the terminal's line discipline sends SIGINT to the whole foreground process group, as for a person.
 */
class Terminal {
  readonly socket = `mongrate-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  async start(command: string): Promise<void> {
    await exec('tmux', ['-L', this.socket, 'new-session', '-d', '-s', 'main', '-x', '160', '-y', '40', 'bash', '-c', command], { cwd: REPO_ROOT });
  }
  /** Types Ctrl-C; false when the session has already ended (its command finished first). */
  async ctrlC(): Promise<boolean> {
    return exec('tmux', ['-L', this.socket, 'send-keys', '-t', 'main', 'C-c']).then(
      () => true,
      () => false,
    );
  }
  async close(): Promise<void> {
    await exec('tmux', ['-L', this.socket, 'kill-server']).catch(() => undefined);
  }
}

/** A wrapper that runs `node <bin> args…` as its child and forwards SIGINT to it; exits with the child's code. */
const FORWARDING_WRAPPER = [
  "const { spawn } = require('node:child_process');",
  "const child = spawn(process.execPath, process.argv.slice(1), { stdio: 'inherit' });",
  "process.on('SIGINT', () => child.kill('SIGINT'));",
  'child.on(\'exit\', (code) => process.exit(code ?? 1));',
].join(' ');

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

describe('Ctrl-C in a terminal (tmux pseudo-terminal, real server)', () => {
  let t: TestDatabase;
  let dir: string;
  let terminal: Terminal;
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
    dir = await mkdtemp(path.join(tmpdir(), 'mongrate-tty-'));
    terminal = new Terminal();
  });
  afterEach(async () => {
    await terminal.close();
    await t.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const record = () => t.db.collection('migrations').findOne({ _id: ID as never });
  /** Waits until the run has saved `batches` checkpoints in `status`. */
  async function waitForBatches(status: string, batches: number): Promise<void> {
    for (let i = 0; ; i++) {
      const r = await record();
      const done = (r?.checkpoint as { batches?: number } | undefined)?.batches ?? 0;
      if (r?.status === status && done >= batches) return;
      if (i > 6000) throw new Error(`the run never reached ${batches} batches in ${status}`);
      await sleep(10);
    }
  }
  async function waitForFile(file: string): Promise<string> {
    for (let i = 0; ; i++) {
      const text = await readFile(file, 'utf8').catch(() => '');
      if (text.includes('\n')) return text;
      if (i > 6000) throw new Error(`${file} never appeared`);
      await sleep(20);
    }
  }

  it('one Ctrl-C stops up, then down, gracefully (exit 130, lock released, record interrupted); reruns start at once and the counts add up', async () => {
    // 30,000 tokens (about 3,000 targets, 300 batches of 10): the Ctrl-C lands long before the run could end.
    await seedSampleData(t.db, { tokens: 30000, seed: 5 });
    const targets = await t.db.collection('cashu_tokens').countDocuments({ transaction_type: 'melted', status: 'unspent' });
    const log = path.join(dir, 'up.log');
    const exit = path.join(dir, 'up.exit');
    await terminal.start(`MONGODB_URI=${quote(t.uri)} ${quote(process.execPath)} ${quote(MIGRATE_BIN)} up --batch-size 10 --log-level info 2>${quote(log)}; echo $? > ${quote(exit)}`);
    await waitForBatches('applying', 3);
    // If the run ended before the keys reached it (a starved machine), that is a correct outcome too: check its data.
    // (Then `ctrlC` finds no session, and the exit code is 0.)
    await terminal.ctrlC();
    if ((await waitForFile(exit)).trim() === String(ExitCode.success)) {
      expect(await t.db.collection('migration_backups').countDocuments()).toBe(targets);
      expect(await t.db.collection('cashu_tokens').countDocuments({ transaction_type: 'melted', status: 'unspent' })).toBe(0);
      return;
    }
    const upLog = await readFile(log, 'utf8');
    expect({ exit: (await waitForFile(exit)).trim(), log: upLog }).toMatchObject({ exit: String(ExitCode.interrupted) });
    expect(upLog.match(/SIGINT received: stopping at the next batch boundary/g)).toHaveLength(1);
    expect(upLog).not.toContain('Second SIGINT');
    expect(upLog).toContain('Run the same command again to resume');
    expect(await t.db.collection('migration_locks').countDocuments()).toBe(0);
    const stopped = await record();
    expect(stopped).toMatchObject({ status: 'failed', direction: 'up' });
    const partial = (stopped?.checkpoint as { updated: number }).updated;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(targets);
    expect((await t.db.collection('migration_history').findOne({ migrationId: ID }))?.outcome).toBe('interrupted');

    // `status` says it is partly applied, not up to date.
    const status = await migrate(['status'], { MONGODB_URI: t.uri }).done;
    // With why its last attempt stopped, as recorded.
    expect(status.stdout).toContain(`${ID} is partly applied (failed: stopped by SIGINT): run`);
    expect(status.stdout).not.toContain('up to date');

    // The rerun needs no lease wait (none is left: asserted above) and finishes the count.
    const rerun = await migrate(['up', '--json', '--lock-timeout', '0'], { MONGODB_URI: t.uri }).done;
    expect(rerun.code).toBe(ExitCode.success);
    expect(JSON.parse(rerun.stdout).result.migrations[0].counts).toMatchObject({ flipped: targets, remaining: 0 });
    const backups = await t.db.collection('migration_backups').countDocuments();
    expect(backups).toBe(targets);

    // Through a wrapper that runs the bin as its child and forwards SIGINT to it (as the old bin wrapper did): the terminal
    // signals both, so the child gets the same Ctrl-C twice. Still one graceful stop.
    const downLog = path.join(dir, 'down.log');
    const downExit = path.join(dir, 'down.exit');
    await terminal.close();
    terminal = new Terminal();
    await terminal.start(
      `MONGODB_URI=${quote(t.uri)} ${quote(process.execPath)} -e ${quote(FORWARDING_WRAPPER)} ${quote(MIGRATE_BIN)} down --yes --batch-size 10 --log-level info 2>${quote(downLog)}; echo $? > ${quote(downExit)}`,
    );
    await waitForBatches('reverting', 3);
    await terminal.ctrlC();
    if ((await waitForFile(downExit)).trim() === String(ExitCode.success)) {
      expect(await t.db.collection('migration_backups').countDocuments()).toBe(0);
      expect(await t.db.collection('cashu_tokens').countDocuments({ transaction_type: 'melted', status: 'unspent' })).toBe(targets);
      return;
    }
    const downText = await readFile(downLog, 'utf8');
    // Its log in the failure message: an exit other than 130 is otherwise a bare number.
    expect({ exit: (await waitForFile(downExit)).trim(), log: downText }).toMatchObject({ exit: String(ExitCode.interrupted) });
    expect(downText.match(/SIGINT received/g)).toHaveLength(1);
    expect(downText).not.toContain('Second SIGINT');
    expect(await t.db.collection('migration_locks').countDocuments()).toBe(0);
    expect(await record()).toMatchObject({ status: 'failed', direction: 'down' });
    const reverting = await migrate(['status'], { MONGODB_URI: t.uri }).done;
    expect(reverting.stdout).toContain(`${ID} is partly reverted (failed: stopped by SIGINT)`);
    expect(reverting.stdout).not.toContain('up to date');

    const resumed = await migrate(['down', '--yes', '--json', '--lock-timeout', '0'], { MONGODB_URI: t.uri }).done;
    expect(resumed.code).toBe(ExitCode.success);
    const counts = JSON.parse(resumed.stdout).result.migrations[0].counts as { restored: number; alreadyRestored: number; conflicts: number };
    expect(counts.restored + counts.alreadyRestored + counts.conflicts).toBe(backups);
    expect(await t.db.collection('cashu_tokens').countDocuments({ transaction_type: 'melted', status: 'unspent' })).toBe(targets);
  });
});
