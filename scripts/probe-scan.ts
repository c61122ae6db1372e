import { performance } from 'node:perf_hooks';
import { MongoClient, type Document } from 'mongodb';
import { CASHU_TOKEN_COLLECTION, seedSampleData } from '@nctool/cashu-models';
const FILTER = { transaction_type: 'melted', status: 'unspent' };
const c = await MongoClient.connect(process.argv[2] ?? '');
const db = c.db('probe_scan');
const n = Number(process.argv[3] ?? 1e5);
if (process.argv[4] !== 'keep') { await db.dropDatabase(); await seedSampleData(db, { tokens: n, users: Math.max(10, Math.floor(n / 50)), seed: 11 }); }
const t = db.collection(CASHU_TOKEN_COLLECTION);
const time = async (label: string, f: () => Promise<unknown>) => { const t0 = performance.now(); const r = await f(); console.log(label, Math.round(performance.now() - t0), 'ms', r); };
await time('count', () => t.countDocuments(FILTER));
await time('cursor b1000', async () => { let k = 0, gm = 0; const cur = t.find(FILTER, { projection: { status: 1, spent_at: 1 }, batchSize: 1000 }); for await (const _ of cur) k++; return k; });
await time('cursor b1000 sort _id', async () => { let k = 0; for await (const _ of t.find(FILTER, { projection: { status: 1, spent_at: 1 }, batchSize: 1000, sort: { _id: 1 } })) k++; return k; });
await time('ranges sort+limit', async () => { let k = 0; let after: unknown; for (;;) { const q: Document = after === undefined ? FILTER : { ...FILTER, _id: { $gt: after } }; const p = await t.find(q, { projection: { status: 1, spent_at: 1 }, sort: { _id: 1 }, limit: 1000 }).toArray(); if (!p.length) break; k += p.length; after = p.at(-1)!._id; } return k; });
await time('ranges hint _id', async () => { let k = 0; let after: unknown; for (;;) { const q: Document = after === undefined ? FILTER : { ...FILTER, _id: { $gt: after } }; const p = await t.find(q, { projection: { status: 1, spent_at: 1 }, sort: { _id: 1 }, limit: 1000, hint: { _id: 1 } }).toArray(); if (!p.length) break; k += p.length; after = p.at(-1)!._id; } return k; });
await time('agg match toArray', async () => (await t.aggregate([{ $match: FILTER }, { $project: { status: 1, spent_at: 1 } }]).toArray()).length);
await time('ids only cursor', async () => { let k = 0; for await (const _ of t.find(FILTER, { projection: { _id: 1 }, batchSize: 1000 })) k++; return k; });
await c.close();
