import { MongoClient } from 'mongodb';
import { seedSampleData } from '@nctool/cashu-models';
const c = await MongoClient.connect(process.argv[2]);
await seedSampleData(c.db(process.argv[3]), { tokens: Number(process.argv[4] ?? 6000), seed: 5 });
await c.close();
