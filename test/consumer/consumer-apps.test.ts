/**
 * Consumer tests: the packed tarballs, installed with npm and pnpm into throwaway apps outside the repository, each on its
 * own driver and Mongoose, booting against the real server. Needs the npm registry (the apps install real dependencies).
 */
import { execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { uriWithDatabase, REPO_ROOT } from '../support/server.js';
import { serverUri } from '../support/database.js';
import { finished, type Finished } from '../support/spawn-ts.js';

const exec = promisify(execFile);
const APPS = path.join(REPO_ROOT, 'test', 'consumer', 'apps');
const PACKAGES = ['packages/core', 'packages/cli', 'packages/cashu-models', 'migrations'];
const INSTALL_TIMEOUT_MS = 300_000;

let work: string;
let tarballs: Record<string, string>;
let client: MongoClient;
const databases: Db[] = [];

/** Packs every package an app installs (prepack builds it) into `dir`; returns tarball paths by package name. */
async function pack(dir: string): Promise<Record<string, string>> {
  const byName: Record<string, string> = {};
  for (const pkg of PACKAGES) {
    const before = new Set(await readdir(dir));
    await exec('pnpm', ['pack', '--pack-destination', dir], { cwd: path.join(REPO_ROOT, pkg), maxBuffer: 16 << 20 });
    const file = (await readdir(dir)).find((f) => !before.has(f));
    const name = (await import(path.join(REPO_ROOT, pkg, 'package.json'), { with: { type: 'json' } })).default.name as string;
    if (!file) throw new Error(`pnpm pack wrote no tarball for ${pkg}`);
    byName[name] = path.join(dir, file);
  }
  return byName;
}

/** Copies an app template and writes its package.json with our tarballs (also forced for our packages' own dependencies). */
async function app(template: string, dependencies: Record<string, string>, ours: readonly string[], manager: 'npm' | 'pnpm'): Promise<string> {
  const dir = path.join(work, template);
  await cp(path.join(APPS, template), dir, { recursive: true });
  const local = Object.fromEntries(ours.map((name) => [name, `file:${tarballs[name]}`]));
  const manifest: Record<string, unknown> = { name: `consumer-${template}`, private: true, dependencies: { ...local, ...dependencies } };
  if (template.startsWith('esm') || template.startsWith('ts')) manifest.type = 'module';
  if (manager === 'npm') manifest.overrides = Object.fromEntries(ours.map((name) => [name, `$${name}`]));
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (manager === 'pnpm') {
    // Our packages' dependencies on each other resolve to the tarballs too, never to the registry.
    const overrides = ours.map((name) => `  '${name}': 'file:${tarballs[name]}'`).join('\n');
    // tsx's esbuild ships its binary as an optional dependency; its install script only checks it.
    await writeFile(path.join(dir, 'pnpm-workspace.yaml'), `overrides:\n${overrides}\nallowBuilds:\n  esbuild: true\n`);
    await exec('pnpm', ['install', '--config.confirmModulesPurge=false'], { cwd: dir, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 << 20 });
  } else {
    await exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 << 20 });
  }
  return dir;
}

function node(dir: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  const child = spawn(process.execPath, args, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return finished(child);
}

function lastJson(result: Finished): Record<string, unknown> {
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  }
}

function freshDb(label: string): { db: Db; uri: string } {
  const name = `consumer_${label}_${new ObjectId().toHexString().slice(-6)}`;
  const db = client.db(name);
  databases.push(db);
  return { db, uri: uriWithDatabase(serverUri(), name) };
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'mongrate-consumer-'));
  await writeFile(path.join(work, 'package.json'), '{"private":true}\n');
  tarballs = await pack(work);
  client = await MongoClient.connect(serverUri());
}, INSTALL_TIMEOUT_MS);

afterAll(async () => {
  for (const db of databases) await db.dropDatabase().catch(() => undefined);
  await client?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('an ESM JavaScript app on Mongoose 8 (npm)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await app('esm-mongoose8', { mongoose: '^8.14.0' }, ['@mongrate/core', '@mongrate/cli', '@nctool/cashu-models', '@nctool/migrations'], 'npm');
  }, INSTALL_TIMEOUT_MS);

  it('installs one driver copy, and no tsx', () => {
    expect(existsSync(path.join(dir, 'node_modules', 'tsx'))).toBe(false);
    expect(existsSync(path.join(dir, 'node_modules', 'mongoose', 'node_modules', 'mongodb'))).toBe(false);
    expect(existsSync(path.join(dir, 'node_modules', '@mongrate', 'core', 'node_modules', 'mongodb'))).toBe(false);
  });

  it('three replicas boot at once: all resolve, each migration runs exactly once, and the app model reads the migrated data', async () => {
    const { db, uri } = freshDb('esm');
    await db.collection('users').insertMany(Array.from({ length: 300 }, (_, i) => ({ name: `u${i}`, status: 'pending' })));
    const boots = await Promise.all([1, 2, 3].map(() => node(dir, ['boot.js'], { MONGODB_URI: uri })));
    for (const boot of boots) expect({ code: boot.code, stderr: boot.stderr }).toEqual({ code: 0, stderr: '' });
    const outputs = boots.map(lastJson);
    const applied = outputs.flatMap((o) => o.applied as string[]).sort();
    expect(applied).toEqual(['migrations/001_create_plans', 'migrations/002_activate_users', 'nctool/004_fix_melted_token_status']);
    for (const o of outputs) expect(o).toMatchObject({ ok: true, active: 300 });
    const runs = await db.collection('runs').aggregate<{ _id: string; n: number }>([{ $group: { _id: '$migration', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]).toArray();
    expect(runs).toEqual([
      { _id: 'migrations/001_create_plans', n: 1 },
      { _id: 'migrations/002_activate_users', n: 1 },
    ]);
    expect(await db.collection('migration_backups').countDocuments({ migration: 'migrations/002_activate_users' })).toBe(300);
  });

  it('npx migrate status | down --yes | up, with MONGODB_URI and no tsx', async () => {
    const { db, uri } = freshDb('cli');
    await db.collection('users').insertMany(Array.from({ length: 50 }, (_, i) => ({ name: `u${i}`, status: 'pending' })));
    const npx = (args: string[]) => exec('npx', ['--no-install', 'migrate', ...args, '--migrations', './migrations', '--json'], { cwd: dir, env: { ...process.env, MONGODB_URI: uri } }).catch((e: { code: number; stdout: string; stderr: string }) => e);
    const status = await npx(['status']);
    expect(JSON.parse(status.stdout)).toMatchObject({ ok: true, result: { pending: 2 } });
    const up = await npx(['up']);
    expect(JSON.parse(up.stdout)).toMatchObject({ ok: true, result: { migrations: [{ id: 'migrations/001_create_plans' }, { id: 'migrations/002_activate_users', counts: { activated: 50 } }] } });
    expect(await db.collection('users').countDocuments({ status: 'active' })).toBe(50);
    const down = await npx(['down', '--yes']);
    expect(JSON.parse(down.stdout)).toMatchObject({ ok: true, result: { migrations: [{ id: 'migrations/002_activate_users', counts: { restored: 50, conflicts: 0 } }] } });
    expect(await db.collection('users').countDocuments({ status: 'pending', activatedAt: { $exists: false } })).toBe(50);
    const again = await npx(['up']);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, result: { migrations: [{ id: 'migrations/002_activate_users' }] } });
  });
});

describe('a CommonJS app on the mongodb 6 driver (npm)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await app('cjs-mongodb6', { mongodb: '^6.10.0' }, ['@mongrate/core'], 'npm');
  }, INSTALL_TIMEOUT_MS);

  it('require()s core and runs up() with .cjs migrations', async () => {
    const { db, uri } = freshDb('cjs');
    await db.collection('orders').insertMany([{ state: 'closed' }, { state: 'open' }, { state: 'closed', total: 5.0 }]);
    const first = await node(dir, ['boot.cjs'], { MONGODB_URI: uri });
    expect(lastJson(first)).toMatchObject({ ok: true, applied: ['migrations/001_archive_old_orders'], flagged: 2 });
    expect(first.code).toBe(0);
    const second = await node(dir, ['boot.cjs'], { MONGODB_URI: uri });
    expect(lastJson(second)).toMatchObject({ ok: true, applied: [], nothingToDo: true });
    const driver = (await import(path.join(dir, 'node_modules', 'mongodb', 'package.json'), { with: { type: 'json' } })).default.version as string;
    expect(driver).toMatch(/^6\./);
  });
});

describe('a TypeScript app on Mongoose 9 with .ts migrations and tsx (pnpm)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await app('ts-mongoose9', { mongoose: '^9.0.0', tsx: '^4.19.0', typescript: '^5.9.0', '@types/node': '^20.19.0' }, ['@mongrate/core', '@mongrate/cli'], 'pnpm');
  }, INSTALL_TIMEOUT_MS);

  it('type-checks against the published types', async () => {
    await expect(exec(path.join(dir, 'node_modules', '.bin', 'tsc'), ['-p', '.'], { cwd: dir })).resolves.toBeDefined();
  });

  it('boots under tsx, and the CLI registers the app’s tsx for .ts migrations', async () => {
    const { db, uri } = freshDb('ts');
    await db.collection('notes').insertMany([{ text: 'a' }, { text: 'b' }]);
    const boot = await node(dir, ['--import', 'tsx', 'boot.ts'], { MONGODB_URI: uri });
    expect(lastJson(boot)).toMatchObject({ ok: true, applied: ['migrations/001_tag_notes'], tagged: 2 });
    const migrate = path.join(dir, 'node_modules', '.bin', 'migrate');
    const down = await exec(migrate, ['down', '--yes', '--json', '--migrations', './migrations'], { cwd: dir, env: { ...process.env, MONGODB_URI: uri } });
    expect(JSON.parse(down.stdout)).toMatchObject({ ok: true, result: { migrations: [{ id: 'migrations/001_tag_notes' }] } });
    expect(await db.collection('notes').countDocuments({ tagged: true })).toBe(0);
  });
});
