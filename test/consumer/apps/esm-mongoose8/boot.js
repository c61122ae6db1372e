// What an app does at boot: connect Mongoose, run pending migrations (every replica does this), then serve.
import mongoose from 'mongoose';
import { Migrator, createLogger, folderSource } from '@mongrate/core';
import { migrationSource as nctool } from '@nctool/migrations';
import { User } from './models.js';

await mongoose.connect(process.env.MONGODB_URI);
const migrator = new Migrator({
  connection: mongoose.connection,
  sources: [folderSource(new URL('./migrations', import.meta.url).pathname), nctool],
  logger: createLogger({ level: 'warn' }),
  lockPollMs: 100,
});
const result = await migrator.up();
const active = await User.countDocuments({ status: 'active' });
process.stdout.write(`${JSON.stringify({ ok: true, applied: result.migrations.map((m) => m.id), nothingToDo: result.nothingToDo, active })}\n`);
await mongoose.disconnect();
