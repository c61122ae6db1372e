/**
 * Reliability suite: long-running fault injection against a real server, one summary line per test.
 *   pnpm reliability [--rounds 20] [--kills 25] [--only <test name part>]
 * Concurrent app writes, the bad-input corpus and the secret scan are jest tests; this runs them on the same server.
 */
import path from 'node:path';
import { execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient, type Db } from 'mongodb';
import { Migrator, createLogger, folderSource } from '@mongrate/core';
import { CASHU_TOKEN_COLLECTION } from '@nctool/cashu-models';
import { seedSampleData } from '@nctool/cashu-models/sample-data';
import { collectionHash } from '../support/collection-hash.js';
import { REPO_ROOT, startServer, uriWithDatabase } from '../support/server.js';
import { finished, spawnTs } from '../support/spawn-ts.js';
import { MIGRATE_WORKER as WORKER, killAtBatch } from '../support/kill-at-batch.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const ROUNDS = option('--rounds', 20);
const KILLS = option('--kills', 25);
/** `--only restart` runs the tests whose name contains the word. */
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const NCTOOL = path.join(REPO_ROOT, 'migrations');
const BASIC = path.join(REPO_ROOT, 'test', 'fixtures', 'basic');
const SLOW = path.join(REPO_ROOT, 'test', 'fixtures', 'slow');
const ID = 'nctool/004_fix_melted_token_status';
// Short, so reruns after a kill -9 wait seconds; long enough that a server slowed by the other tests never starves a renewal.
const LEASE_MS = 4000;
const logger = createLogger({ level: 'error' });
const results: Array<{ test: string; ok: boolean; line: string }> = [];

function report(test: string, ok: boolean, line: string): void {
  results.push({ test, ok, line });
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'} ${test}: ${line}\n`);
}

const server = await startServer();
const client = await MongoClient.connect(server.uri);
const migrator = (db: Db, dir = NCTOOL, batchSize = 25) =>
  new Migrator({ client, dbName: db.databaseName, sources: [folderSource(dir)], logger, batchSize, leaseMs: LEASE_MS, lockPollMs: 100 });

async function bootStampede(): Promise<void> {
  const t0 = Date.now();
  const workers: ChildProcess[] = Array.from({ length: 20 }, () =>
    spawnTs(WORKER, ['serve', JSON.stringify({ uri: server.uri, dir: BASIC, lockPollMs: 100 })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  const next = (c: ChildProcess) => new Promise<Record<string, unknown>>((resolve) => c.once('message', (m) => resolve(m as Record<string, unknown>)));
  await Promise.all(workers.map(next));
  let errors = 0;
  let maxRuns = 0;
  let minRuns = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const dbName = `rel_stampede_${round}`;
    const replies = workers.map(next);
    for (const w of workers) w.send({ dbName });
    const answers = await Promise.all(replies);
    errors += answers.filter((a) => !a.ok).length;
    const runs = await client.db(dbName).collection('probe').aggregate<{ n: number }>([{ $group: { _id: '$migration', n: { $sum: 1 } } }]).toArray();
    maxRuns = Math.max(maxRuns, ...runs.map((r) => r.n));
    minRuns = Math.min(minRuns, runs.length === 3 ? Math.min(...runs.map((r) => r.n)) : 0);
    await client.db(dbName).dropDatabase();
  }
  for (const w of workers) w.send({ exit: true });
  report('boot stampede', errors === 0 && maxRuns === 1 && minRuns === 1, `20 processes × ${ROUNDS} rounds, each of 3 migrations ran exactly once (min ${minRuns}, max ${maxRuns}), ${errors} errors, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

async function killWorkerAt(db: Db, direction: 'up' | 'down', afterBatches: number): Promise<boolean> {
  const { killed } = await killAtBatch({ uri: server.uri, dbName: db.databaseName, dir: NCTOOL, batchSize: 25, direction, leaseMs: LEASE_MS, afterBatches, at: 'inside-next' });
  return killed;
}

async function crashSweep(): Promise<void> {
  const db = client.db('rel_crash');
  await db.dropDatabase();
  await seedSampleData(db, { tokens: 12_000, seed: 21 });
  const tokens = db.collection(CASHU_TOKEN_COLLECTION);
  const original = await collectionHash(tokens);
  const targets = await tokens.countDocuments({ transaction_type: 'melted', status: 'unspent' });
  const batches = Math.ceil(targets / 25);
  let killed = 0;
  let failures = 0;
  for (let i = 0; i < KILLS; i++) {
    const upAt = 1 + Math.floor(Math.random() * (batches - 1));
    if (await killWorkerAt(db, 'up', upAt)) killed++;
    await migrator(db).up();
    const runAt = (await db.collection('migrations').findOne({ _id: ID as never }))?.runAt as Date;
    const flipped = await tokens.countDocuments({ transaction_type: 'melted', status: 'spent', spent_at: runAt });
    const backups = await db.collection('migration_backups').countDocuments({ migration: ID });
    const downAt = 1 + Math.floor(Math.random() * (batches - 1));
    if (await killWorkerAt(db, 'down', downAt)) killed++;
    await migrator(db).down();
    const restored = (await collectionHash(tokens)) === original;
    if (flipped !== targets || backups !== targets || !restored) {
      failures++;
      process.stdout.write(`  kill point ${i}: up@${upAt} down@${downAt}: flipped ${flipped}/${targets}, backups ${backups}, restored ${restored}\n`);
    }
  }
  await db.dropDatabase();
  report('crash sweep', failures === 0, `${killed} kill -9 points (${KILLS} during up, ${KILLS} during down, random batches of ${batches}); after each rerun 100% flipped, backups = flipped, up→down hash equal: ${KILLS - failures}/${KILLS} cycles`);
}

async function pause(): Promise<void> {
  const db = client.db('rel_pause');
  await db.dropDatabase();
  await db.collection<{ _id: string; steps: number; stepMs: number }>('switches').insertOne({ _id: 'slow', steps: 40, stepMs: 100 });
  const holder = spawnTs(WORKER, ['up', JSON.stringify({ uri: server.uri, dbName: db.databaseName, dir: SLOW, leaseMs: LEASE_MS })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const done = finished(holder);
  const readLease = () => db.collection<{ _id: string; fence: unknown }>('migration_locks').findOne({});
  let lease = await readLease();
  while (!lease) {
    await sleep(20);
    lease = await readLease();
  }
  while ((await db.collection('probe').countDocuments()) < 3) await sleep(20);
  holder.kill('SIGSTOP');
  await migrator(db, SLOW).up();
  const atTakeover = await db.collection('probe').countDocuments({ fence: lease.fence });
  holder.kill('SIGCONT');
  const { code, stdout } = await done;
  const after = await db.collection('probe').countDocuments({ fence: lease.fence });
  const lost = stdout.includes('LOCK_LOST');
  await db.dropDatabase();
  report('pause (SIGSTOP past the lease)', code === 1 && lost && after === atTakeover, `old holder exited ${code} with LockLostError: ${lost}; writes carrying the old fence after takeover: ${after - atTakeover}`);
}

/** Where in a run the server restart is aimed. The run may still be anywhere when it lands: every outcome is checked. */
interface RestartScenario {
  readonly name: string;
  readonly batchSize: number;
  readonly leaseMs: number;
  readonly downSeconds: number;
  /** Resolves once the run has reached the point the restart aims at. */
  readonly when: (db: Db) => Promise<boolean>;
}

const readRecord = (db: Db) => db.collection('migrations').findOne({ _id: ID as never });
const checkpointOf = async (db: Db) => ((await readRecord(db))?.checkpoint ?? {}) as { batches?: number; updated?: number };

const RESTART_SCENARIOS: readonly RestartScenario[] = [
  { name: 'between batches', batchSize: 10, leaseMs: LEASE_MS, downSeconds: 1, when: async (db) => ((await checkpointOf(db)).batches ?? 0) >= 3 },
  {
    // Backups of a batch are written but its update is not checkpointed yet: the bulk write is in flight.
    name: "during a batch's bulk write",
    batchSize: 2000,
    leaseMs: LEASE_MS,
    downSeconds: 1,
    when: async (db) => (await db.collection('migration_backups').countDocuments({ migration: ID })) > ((await checkpointOf(db)).updated ?? 0),
  },
  // One target per batch: a checkpoint every few milliseconds, so the restart cuts one short or lands right beside one.
  { name: 'during a checkpoint', batchSize: 1, leaseMs: LEASE_MS, downSeconds: 1, when: async (db) => ((await checkpointOf(db)).batches ?? 0) >= 20 },
  {
    // Renewals every 500 ms, and the server down for longer than that: at least one renewal fails.
    name: 'during lock renewal',
    batchSize: 5,
    leaseMs: 1500,
    downSeconds: 2,
    when: async (db) => ((await checkpointOf(db)).batches ?? 0) >= 2,
  },
];

/** Polls through a restart: the test's own client fails while the server is down. */
async function pollUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition().catch(() => false)) return true;
    await sleep(5);
  }
  return false;
}

/**
 * Restarts the server while a worker runs migration 004. Two outcomes are correct: the run rides the restart out and
 * completes, or it fails cleanly (exit 1, a JSON error) and a rerun completes. Either way the data must hold:
 * 0 targets left, one backup per flipped token, the record `applied`, and `down` restores the seed exactly.
 */
async function restartDuring(scenario: RestartScenario, restartScript: string): Promise<string | undefined> {
  const db = client.db(`rel_restart_${scenario.name.replace(/\W+/g, '_')}`);
  await db.dropDatabase();
  await seedSampleData(db, { tokens: 6_000, seed: 22 });
  const tokens = db.collection(CASHU_TOKEN_COLLECTION);
  const original = await collectionHash(tokens);
  const targets = await tokens.countDocuments({ transaction_type: 'melted', status: 'unspent' });
  const child = spawnTs(
    WORKER,
    ['up', JSON.stringify({ uri: server.uri, dbName: db.databaseName, dir: NCTOOL, batchSize: scenario.batchSize, leaseMs: scenario.leaseMs })],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const done = finished(child);
  const reached = await pollUntil(() => (child.exitCode === null ? scenario.when(db) : Promise.resolve(true)), 60_000);
  const restartedMidRun = reached && child.exitCode === null;
  const [cmd, ...rest] = restartScript.split(' ');
  await promisify(execFile)(cmd as string, [...rest, String(scenario.downSeconds)]);
  const hang = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const { code, signal, stdout } = await done;
  clearTimeout(hang);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  const outcome = code === 0 && last.includes('"ok":true') ? 'completed' : code === 1 && last.includes('"ok":false') ? 'failed cleanly' : undefined;
  // The rerun is needed after a clean failure, and must find nothing to do after a completed run.
  const fresh = await MongoClient.connect(uriWithDatabase(server.uri, db.databaseName));
  try {
    const rerun = await new Migrator({ client: fresh, sources: [folderSource(NCTOOL)], logger, leaseMs: LEASE_MS, lockPollMs: 100 }).up();
    const data = fresh.db().collection(CASHU_TOKEN_COLLECTION);
    const record = await fresh.db().collection('migrations').findOne({ _id: ID as never });
    const remaining = await data.countDocuments({ transaction_type: 'melted', status: 'unspent' });
    const flipped = await data.countDocuments({ transaction_type: 'melted', status: 'spent', spent_at: record?.runAt });
    const backups = await fresh.db().collection('migration_backups').countDocuments({ migration: ID });
    await new Migrator({ client: fresh, sources: [folderSource(NCTOOL)], logger, leaseMs: LEASE_MS, lockPollMs: 100 }).down();
    const restored = (await collectionHash(data)) === original;
    const problems = [
      outcome ? '' : `the run neither completed nor failed cleanly (exit ${code ?? signal}: ${last.slice(0, 200)})`,
      outcome === 'completed' && !rerun.nothingToDo ? 'the rerun after a completed run found work' : '',
      remaining === 0 ? '' : `${remaining} of ${targets} targets left`,
      flipped === targets && backups === targets ? '' : `flipped ${flipped}, backups ${backups}, targets ${targets}`,
      record?.status === 'applied' ? '' : `record ${String(record?.status)}`,
      restored ? '' : 'down did not restore the seed exactly',
    ].filter(Boolean);
    return `${scenario.name}: restart ${restartedMidRun ? 'mid-run' : 'after the run ended'}, run ${outcome ?? 'broken'}${problems.length ? `; ${problems.join('; ')}` : ', invariants hold'}${problems.length ? ' FAIL' : ''}`;
  } finally {
    await fresh.db().dropDatabase().catch(() => undefined);
    await fresh.close();
  }
}

async function databaseRestart(): Promise<void> {
  if (!server.restartScript) {
    report('database restart', true, `skipped: ${server.kind} cannot be restarted by this suite`);
    return;
  }
  const lines: string[] = [];
  for (const scenario of RESTART_SCENARIOS) {
    const line = await restartDuring(scenario, server.restartScript);
    if (line) lines.push(line);
  }
  const failed = lines.filter((l) => l.endsWith(' FAIL'));
  report('database restart', failed.length === 0, `${RESTART_SCENARIOS.length - failed.length}/${RESTART_SCENARIOS.length} restart points hold the invariants (0 left, backups = flipped, record applied, up→down hash equal)\n    ${lines.join('\n    ')}`);
}

/** Runs jest tests by name on this server and reports their count. */
function jestCase(test: string, file: string, pattern: string): () => Promise<void> {
  const run = async () => {
    const jest = path.join(REPO_ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', jest, '--selectProjects', 'integration', '--testPathPatterns', file, '-t', pattern],
      { cwd: REPO_ROOT, env: { ...process.env, MONGODB_URI: server.uri }, maxBuffer: 64 << 20 },
    ).catch((error: { stdout?: string; stderr?: string }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '' }));
    const summary = /Tests:\s+(.*)/.exec(`${stdout}\n${stderr}`)?.[1] ?? 'no summary';
    report(test, /passed/.test(summary) && !/failed/.test(summary), `${summary.trim()} (${file}: "${pattern}")`);
  };
  Object.defineProperty(run, 'name', { value: test });
  return run;
}

try {
  process.stdout.write(`Server: ${server.description}\n`);
  for (const test of [
    bootStampede,
    crashSweep,
    pause,
    jestCase('concurrent app writes', 'migration-004.test', 'app writes'),
    jestCase('bad-input corpus', 'cli.test', 'rejects|JSON'),
    jestCase('secret scan', 'cli.test', 'password'),
    databaseRestart,
  ].filter((test) => !ONLY || test.name.includes(ONLY))) {
    try {
      await test();
    } catch (error) {
      report(test.name, false, `threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
} finally {
  await client.close().catch(() => undefined);
  await server.stop();
}
const failed = results.filter((r) => !r.ok).length;
process.stdout.write(`\n${results.length - failed} passed, ${failed} failed\n`);
process.exitCode = failed ? 1 : 0;
