/**
 * The demo: starts the embedded default server (see test/support/server.ts), seeds realistic nctool data
 * (users, wallets, correct and buggy melted tokens), then runs the real CLI: preview → up → status → down → status.
 *   pnpm demo
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { CASHU_TOKEN_COLLECTION } from '@nctool/cashu-models';
import { seedSampleData } from '@nctool/cashu-models/sample-data';
import { REPO_ROOT, startServer, uriWithDatabase } from '../support/server.js';

const BIN = path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'migrate.js');
const say = (text: string) => process.stdout.write(`${text}\n`);

function migrate(args: string[], uri: string): Promise<number> {
  const bold = (t: string) => (process.stdout.isTTY ? `\x1b[1m${t}\x1b[0m` : t);
  say(`\n${bold(`$ migrate ${args.join(' ')}`)}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, MONGODB_URI: uri }, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

async function balances(client: MongoClient, dbName: string): Promise<string> {
  const rows = await client
    .db(dbName)
    .collection(CASHU_TOKEN_COLLECTION)
    .aggregate<{ _id: string; sats: number }>([{ $match: { status: 'unspent' } }, { $group: { _id: null, sats: { $sum: '$total_amount' } } }])
    .toArray();
  return (rows[0]?.sats ?? 0).toLocaleString('en-US');
}

const server = await startServer();
const stop = async () => {
  await server.stop().catch(() => undefined);
};
process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
let failed = false;
try {
  say(`Server: ${server.description}`);
  const dbName = 'nctool_demo';
  const uri = uriWithDatabase(server.uri, dbName);
  const client = await MongoClient.connect(uri);
  await client.db(dbName).dropDatabase();
  const seeded = await seedSampleData(client.db(dbName), { tokens: 2400, users: 12, seed: 42, buggyShare: 0.12, correctMeltedShare: 0.06 });
  say(`Seeded ${seeded.wallets} wallets and ${seeded.tokens} tokens: some melted tokens are stuck at status 'unspent'.`);
  say(`Sum of unspent balances before: ${await balances(client, dbName)} sats`);
  const steps: Array<[string[], number]> = [
    [['preview'], 0],
    [['up'], 0],
    [['status'], 0],
  ];
  for (const [args, expected] of steps) if ((await migrate(args, uri)) !== expected) failed = true;
  say(`\nSum of unspent balances after up: ${await balances(client, dbName)} sats (melted tokens no longer count)`);
  for (const [args, expected] of [
    [['down', '--yes'], 0],
    [['status'], 0],
  ] as Array<[string[], number]>) {
    if ((await migrate(args, uri)) !== expected) failed = true;
  }
  say(`\nSum of unspent balances after down: ${await balances(client, dbName)} sats (restored exactly)`);
  await client.db(dbName).dropDatabase();
  await client.close();
} finally {
  await stop();
}
say(failed ? '\nDemo: a step did not end as expected.' : '\nDemo finished.');
process.exitCode = failed ? 1 : 0;
