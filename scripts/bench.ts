/**
 * Benchmark of migration 004 against the floor (raw driver operations doing the same work) and against the seed's
 * design (load everything, one backup document, updateMany, restore one document per round trip), side by side on
 * one server in one run. Prints a table and writes JSON to bench-results/.
 *   pnpm bench [--sizes 1e4,1e5,1e6] [--reps 3] [--no-sweep] [--sweep-size 1e6] [--sweep-only]
 * The batch-size sweep runs at --sweep-size (default: the largest size). The JSON records the server, the machine and
 * its load average, each phase's commands by name (the profile), and which data-write path the toolkit took.
 * Run it with --expose-gc (the script re-executes itself with it) so peak memory is what is retained.
 * Timed runs go through a client without command monitoring (it costs the client CPU per command, and so weighs on
 * whichever side sends more commands). Round trips, the commands by name and the write path come from one more run per
 * size, untimed, on a monitored client (the batch-size sweep counts the timed client's connection check-outs instead).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BSON, MongoClient, type CommandStartedEvent, type CommandSucceededEvent, type CommandFailedEvent, type Db, type Document } from 'mongodb';
import { Migrator, WritePath, createLogger } from '@mongrate/core';
import { CASHU_TOKEN_COLLECTION } from '@nctool/cashu-models';
import { seedSampleData } from '@nctool/cashu-models/sample-data';
import { migrationSource } from '@nctool/migrations';
import { REPO_ROOT, startServer } from '../support/server.js';

const FILTER = { transaction_type: 'melted', status: 'unspent' };
const args = process.argv.slice(2);
const sizes = (args[args.indexOf('--sizes') + 1] && args.includes('--sizes') ? (args[args.indexOf('--sizes') + 1] as string) : '1e5').split(',').map(Number);
const sweep = !args.includes('--no-sweep');
/** Only the batch-size sweep (at --sweep-size). */
const sweepOnly = args.includes('--sweep-only');
const sweepSize = args.includes('--sweep-size') ? Number(args[args.indexOf('--sweep-size') + 1]) : Math.max(...sizes);
/** Runs of the floor and of mongrate per size, alternating; each phase reports its median. */
const reps = args.includes('--reps') ? Math.max(1, Number(args[args.indexOf('--reps') + 1]) || 1) : 3;

interface Measure {
  readonly ms: number;
  readonly roundTrips: number;
  /** Peak RSS above the phase's start, after periodic collection. */
  readonly rssMb: number;
  /** Server time by command name (count, total ms as the driver saw it): where the phase's time goes. */
  readonly profile: Readonly<Record<string, { n: number; ms: number }>>;
  readonly writePaths?: Readonly<Record<string, number>>;
  readonly error?: string;
}

/** Commands sent by the timed client (each one checks a connection out of the pool). */
let checkOuts = 0;
/** Commands seen by the monitored client. */
let commands = 0;
/** Batch data writes seen, by path: the fenced aggregation on the lock collection, or updates on the data. */
let writePaths: Record<string, number> = {};
let profile: Record<string, { n: number; ms: number }> = {};
/** The server's largest document (16 MiB). */
const MAX_BSON_DOCUMENT = 16 * 1024 * 1024;
const mb = (n: number) => Math.round((n / 1048576) * 10) / 10;

/**
 * A full collection this often while a phase runs, so peak RSS is mostly what is retained. Not more often: forced
 * collections cost the client CPU that the server shares on a small machine (every 100 ms added about 1 s of client
 * CPU to up at 1e5, and slowed the client-side work against the floor's idle client).
 */
const GC_EVERY_MS = 1000;

/** Times `run`, counting round trips and sampling memory (every 10 ms). */
async function measure(run: () => Promise<unknown>): Promise<Measure> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  let ticks = 0;
  const sampler = setInterval(() => {
    if (global.gc && ++ticks % (GC_EVERY_MS / 10) === 0) global.gc();
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const before = checkOuts;
  const monitoredBefore = commands;
  profile = {};
  writePaths = {};
  const t0 = performance.now();
  let error: string | undefined;
  try {
    await run();
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const ms = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  // On the monitored client, its commands; on the timed one, its check-outs (the other counter stays put).
  const roundTrips = checkOuts - before || commands - monitoredBefore;
  return { ms: Math.round(ms), roundTrips, rssMb: mb(peak - base), profile: roundProfile(profile), writePaths, ...(error ? { error } : {}) };
}

/**
 * The run with the median time (the lower middle one of an even count), with the highest peak RSS of all runs: later
 * runs start from a heap the earlier ones grew, so their own peaks above the start read low.
 */
function median(runs: readonly Measure[]): Measure {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)] as Measure;
  return { ...middle, rssMb: Math.max(...runs.map((r) => r.rssMb)) };
}

/** The timed runs' median, with the monitored run's commands (count, by name) and write path; the median's pool check-outs beside them. */
function profiled(runs: readonly Measure[], monitoredRun: Measure): Measure & { readonly checkOuts: number } {
  const timed = median(runs);
  const { roundTrips, profile: commandsByName, writePaths: paths = {} } = monitoredRun;
  return { ...timed, roundTrips, profile: commandsByName, writePaths: paths, checkOuts: timed.roundTrips };
}

/** What has been measured so far, in case a long run is cut short. */
function savePartial(value: unknown): void {
  mkdirSync(path.join(REPO_ROOT, 'bench-results'), { recursive: true });
  writeFileSync(path.join(REPO_ROOT, 'bench-results', 'partial.json'), JSON.stringify(value, null, 2));
}

function roundProfile(p: Record<string, { n: number; ms: number }>): Record<string, { n: number; ms: number }> {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, { n: v.n, ms: Math.round(v.ms) }]));
}

async function fresh(db: Db, n: number): Promise<number> {
  await db.dropDatabase();
  await seedSampleData(db, { tokens: n, users: Math.max(10, Math.floor(n / 50)), seed: 11 });
  return db.collection(CASHU_TOKEN_COLLECTION).countDocuments(FILTER);
}

function migratorFor(client: MongoClient, db: Db, batchSize = 1000): Migrator {
  return new Migrator({ client, dbName: db.databaseName, sources: [migrationSource], logger: createLogger({ level: 'error' }), batchSize });
}

/** The floor: one $group (preview), a raw server-side copy plus one updateMany (up), a raw unordered bulk restore (down). */
async function floor(db: Db) {
  const tokens = db.collection(CASHU_TOKEN_COLLECTION);
  const copy = db.collection('floor_backup');
  const preview = await measure(() => tokens.aggregate([{ $match: FILTER }, { $group: { _id: '$npub', n: { $sum: 1 }, sats: { $sum: '$total_amount' } } }]).toArray());
  const runAt = new Date();
  const up = await measure(async () => {
    await tokens.aggregate([{ $match: FILTER }, { $project: { status: 1, spent_at: 1 } }, { $merge: { into: 'floor_backup' } }]).toArray();
    await tokens.updateMany(FILTER, { $set: { status: 'spent', spent_at: runAt } });
  });
  const down = await measure(async () => {
    let batch: Document[] = [];
    const flush = async () => {
      if (batch.length) await tokens.bulkWrite(batch.map((b) => ({ updateOne: { filter: { _id: b._id }, update: { $set: { status: b.status, spent_at: b.spent_at } } } })), { ordered: false });
      batch = [];
    };
    for await (const b of copy.find({}, { batchSize: 1000 })) {
      batch.push(b);
      if (batch.length === 1000) await flush();
    }
    await flush();
    await copy.drop();
  });
  return { preview, up, down };
}

/** The seed's design, plainly: load all targets, one backup document, updateMany, restore one document per round trip. */
async function seedDesign(db: Db) {
  const tokens = db.collection(CASHU_TOKEN_COLLECTION);
  const backups = db.collection<{ _id: string; docs: Document[] }>('seed_backup');
  let loaded: Document[] = [];
  const up = await measure(async () => {
    loaded = await tokens.find(FILTER).toArray();
    // As the seed did: the loaded documents, whole, in one backup document (16 MB limit).
    const backup = { _id: 'backup_004', docs: loaded };
    // Said plainly: past the limit the driver's serializer fails first, with a buffer offset out of range.
    const size = BSON.calculateObjectSize(backup);
    if (size > MAX_BSON_DOCUMENT) throw new Error(`its one backup document is over the 16 MB limit (${mb(size)} MB)`);
    await backups.insertOne(backup);
    await tokens.updateMany(FILTER, { $set: { status: 'spent', spent_at: new Date() } });
  });
  const down = up.error
    ? { ms: 0, roundTrips: 0, rssMb: 0, profile: {}, error: 'no backup to restore (up failed)' }
    : await measure(async () => {
        const backup = await backups.findOne({ _id: 'backup_004' });
        for (const d of backup?.docs ?? []) await tokens.updateOne({ _id: d._id }, { $set: { status: d.status, spent_at: d.spent_at } });
        await backups.deleteOne({ _id: 'backup_004' });
      });
  loaded = [];
  return { up, down };
}

async function ours(client: MongoClient, db: Db, batchSize = 1000) {
  const m = migratorFor(client, db, batchSize);
  await m.load();
  const preview = await measure(() => m.preview());
  const up = await measure(() => m.up());
  const noop = await measure(() => m.up());
  const down = await measure(() => m.down());
  return { preview, up, noop, down };
}

if (!process.execArgv.includes('--expose-gc')) {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const server = await startServer();
const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` };
const out: Record<string, unknown> = { server: server.description, machine, loadAtStart: os.loadavg(), date: new Date().toISOString(), sizes: {} };
try {
  process.stdout.write(`Server: ${server.description}\n`);
  const client = await MongoClient.connect(server.uri);
  client.on('connectionCheckedOut', () => {
    checkOuts++;
  });
  const monitored = await MongoClient.connect(server.uri, { monitorCommands: true });
  monitored.on('commandStarted', (e: CommandStartedEvent) => {
    commands++;
    const pipeline: unknown = e.command.pipeline;
    if (e.commandName === 'aggregate' && e.command.aggregate === 'migration_locks' && Array.isArray(pipeline) && pipeline.some((st) => '$merge' in st)) {
      writePaths['fenced-merge'] = (writePaths['fenced-merge'] ?? 0) + 1;
    }
    if (e.commandName === 'update' && e.command.update === CASHU_TOKEN_COLLECTION) {
      // Named after the toolkit's write paths (`WritePath`): an update pipeline per document is the conditional update.
      const updates: unknown = e.command.updates;
      const first: unknown = Array.isArray(updates) ? updates[0] : undefined;
      const kind = typeof first === 'object' && first !== null && 'u' in first && Array.isArray(first.u) ? WritePath.conditionalUpdate : 'update';
      writePaths[kind] = (writePaths[kind] ?? 0) + 1;
    }
  });
  const tally = (e: CommandSucceededEvent | CommandFailedEvent) => {
    const entry = (profile[e.commandName] ??= { n: 0, ms: 0 });
    entry.n++;
    entry.ms += e.duration;
  };
  monitored.on('commandSucceeded', tally);
  monitored.on('commandFailed', tally);
  const db = client.db('mongrate_bench');
  const monitoredDb = monitored.db(db.databaseName);
  const build = await db.admin().command({ buildInfo: 1 }).catch(() => ({}) as Document);
  out.serverVersion = (build as Document).version;
  process.stdout.write(`Machine: ${machine.cpus} × ${machine.cpu}, ${machine.memGb} GB, Node ${machine.node}; server reports ${String(out.serverVersion)}\n`);
  const rows: string[][] = [];
  const ratio = (a: Measure, b: Measure) => (b.ms > 0 ? `${(a.ms / b.ms).toFixed(2)}×` : '-');
  const rate = (targets: number, m: Measure) => (m.error ? 'failed' : `${Math.round(targets / Math.max(m.ms / 1000, 0.001)).toLocaleString('en-US')}/s`);
  const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
  const perK = (m: Measure, targets: number) => (targets > 0 ? ((m.roundTrips / targets) * 1000).toFixed(1) : '-');
  const pathOf = (m: Measure) => Object.entries(m.writePaths ?? {}).map(([k, v]) => `${k} ×${v}`).join(', ') || '-';
  for (const n of sweepOnly ? [] : sizes) {
    const loadBefore = load();
    const targets = await fresh(db, n);
    // The floor and mongrate alternate, `reps` times each, and each phase reports its median run: on a small shared
    // machine one run of a 1 s phase swings by a third (the server's own autovacuum and checkpoints land anywhere).
    const floorRuns: Array<Awaited<ReturnType<typeof floor>>> = [];
    const ourRuns: Array<Awaited<ReturnType<typeof ours>>> = [];
    for (let rep = 0; rep < reps; rep++) {
      floorRuns.push(await floor(db));
      ourRuns.push(await ours(client, db));
    }
    // One more run of each, untimed, on the monitored client: the commands by name and the write path.
    const pf = await floor(monitoredDb);
    const po = await ours(monitored, monitoredDb);
    const f = {
      preview: profiled(floorRuns.map((r) => r.preview), pf.preview),
      up: profiled(floorRuns.map((r) => r.up), pf.up),
      down: profiled(floorRuns.map((r) => r.down), pf.down),
    };
    const o = {
      preview: profiled(ourRuns.map((r) => r.preview), po.preview),
      up: profiled(ourRuns.map((r) => r.up), po.up),
      noop: profiled(ourRuns.map((r) => r.noop), po.noop),
      down: profiled(ourRuns.map((r) => r.down), po.down),
    };
    const s = await seedDesign(db);
    (out.sizes as Record<string, unknown>)[String(n)] = {
      targets,
      reps,
      floor: f,
      ours: o,
      seedDesign: s,
      runs: { floor: floorRuns.map((r) => ({ preview: r.preview.ms, up: r.up.ms, down: r.down.ms })), ours: ourRuns.map((r) => ({ preview: r.preview.ms, up: r.up.ms, down: r.down.ms })) },
      loadBefore,
      loadAfter: load(),
      upWritePath: pathOf(o.up),
    };
    savePartial(out);
    const label = `${n.toExponential(0)} (${targets.toLocaleString('en-US')} targets)`;
    rows.push([label, 'preview', `${o.preview.ms} ms`, `${f.preview.ms} ms ($group)`, ratio(o.preview, f.preview), '-', `${o.preview.roundTrips}`, `${o.preview.rssMb}`]);
    rows.push([label, 'up', `${o.up.ms} ms`, `${f.up.ms} ms`, ratio(o.up, f.up), s.up.error ? `failed: ${s.up.error.slice(0, 60)}` : `${s.up.ms} ms (${ratio(s.up, f.up)}; mongrate/seed ${ratio(o.up, s.up)})`, `${o.up.roundTrips}`, `${o.up.rssMb} (seed: ${s.up.rssMb})`]);
    rows.push([label, 'down', `${o.down.ms} ms`, `${f.down.ms} ms`, ratio(o.down, f.down), s.down.error ? `n/a: ${s.down.error.slice(0, 30)}` : `${s.down.ms} ms (${ratio(s.down, f.down)}; mongrate/seed ${ratio(o.down, s.down)})`, `${o.down.roundTrips}`, `${o.down.rssMb}`]);
    rows.push([label, 'no-op up()', `${o.noop.ms} ms`, '-', '-', '-', `${o.noop.roundTrips}`, `${o.noop.rssMb}`]);
    process.stdout.write(
      `${label}: up ${rate(targets, o.up)}, down ${rate(targets, o.down)}; floor up ${rate(targets, f.up)}, down ${rate(targets, f.down)}; ` +
        `round trips per 1,000 targets: up ${perK(o.up, targets)}, down ${perK(o.down, targets)}; up's write path: ${pathOf(o.up)}; load ${loadBefore} → ${load()}\n`,
    );
  }
  if (sweep) {
    const n = sweepSize;
    const sweepOut: Record<string, unknown> = {};
    // One seeding: each run's down restores the collection exactly, so the next batch size starts from the seed.
    await fresh(db, n);
    for (const batchSize of [100, 1000, 10_000]) {
      const o = await ours(client, db, batchSize);
      sweepOut[batchSize] = o;
      savePartial({ ...out, batchSweep: sweepOut });
      rows.push([`sweep ${n.toExponential(0)}`, `up, batch ${batchSize}`, `${o.up.ms} ms`, '-', '-', '-', `${o.up.roundTrips}`, `${o.up.rssMb}`]);
      rows.push([`sweep ${n.toExponential(0)}`, `down, batch ${batchSize}`, `${o.down.ms} ms`, '-', '-', '-', `${o.down.roundTrips}`, `${o.down.rssMb}`]);
    }
    out.batchSweep = sweepOut;
  }
  await db.dropDatabase();
  await client.close();
  await monitored.close();
  const header = ['size', 'phase', 'mongrate', 'floor', 'ratio', "seed's design", 'round trips', 'peak RSS +MB'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const table = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
  process.stdout.write(`\n${table}\n`);
  const dir = path.join(REPO_ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify({ ...out, table }, null, 2));
  process.stdout.write(`\nJSON: ${file}\n`);
} finally {
  await server.stop();
}
