import { MongoClient } from 'mongodb';
const c = await MongoClient.connect(process.argv[2]);
const db = c.db(process.argv[3]);
console.log(JSON.stringify(await db.collection('migrations').find({}, { projection: { checkpoint: 0 } }).toArray()));
console.log('locks', JSON.stringify(await db.collection('migration_locks').find().toArray()));
console.log(JSON.stringify(await db.collection('migration_history').find().sort({ _id: -1 }).limit(2).toArray()));
await c.close();
