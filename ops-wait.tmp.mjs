import { MongoClient } from 'mongodb';
const c = await MongoClient.connect(process.argv[2]);
const db = c.db(process.argv[3]);
for (let i = 0; i < 3000; i++) {
  const r = await db.collection('migrations').findOne({});
  if (r && (r.status === 'reverting' || r.status === 'applying') && r.checkpoint) break;
  await new Promise((res) => setTimeout(res, 20));
}
await c.close();
