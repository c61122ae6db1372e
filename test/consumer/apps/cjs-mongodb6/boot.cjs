// A CommonJS app on the mongodb 6 driver: require() of the ESM package (Node >= 20.19).
const path = require('node:path');
const { MongoClient } = require('mongodb');
const { Migrator, createLogger, folderSource } = require('@mongrate/core');

async function main() {
  const client = await MongoClient.connect(process.env.MONGODB_URI);
  try {
    const migrator = new Migrator({ client, sources: [folderSource(path.join(__dirname, 'migrations'))], logger: createLogger({ level: 'warn' }), lockPollMs: 100 });
    const result = await migrator.up();
    const flagged = await client.db().collection('orders').countDocuments({ state: 'archived' });
    process.stdout.write(`${JSON.stringify({ ok: true, applied: result.migrations.map((m) => m.id), nothingToDo: result.nothingToDo, flagged })}\n`);
  } finally {
    await client.close();
  }
}
main().catch((error) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: String(error && error.stack) })}\n`);
  process.exitCode = 1;
});
