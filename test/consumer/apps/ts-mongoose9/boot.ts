// A TypeScript app on Mongoose 9, run with tsx; its migrations are .ts too.
import mongoose from 'mongoose';
import { Migrator, createLogger, folderSource, type RunResult } from '@mongrate/core';

await mongoose.connect(process.env.MONGODB_URI ?? '');
const migrator = new Migrator({ connection: mongoose.connection, sources: [folderSource(new URL('./migrations', import.meta.url).pathname)], logger: createLogger({ level: 'warn' }) });
const result: RunResult = await migrator.up();
const tagged = await mongoose.connection.db?.collection('notes').countDocuments({ tagged: true });
process.stdout.write(`${JSON.stringify({ ok: true, applied: result.migrations.map((m) => m.id), nothingToDo: result.nothingToDo, tagged })}\n`);
await mongoose.disconnect();
