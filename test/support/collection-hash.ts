import { createHash } from 'node:crypto';
import { BSON, type Collection, type Document } from 'mongodb';

/** sha256 of every document (canonical Extended JSON, in `_id` order), optionally rewriting each first. */
export async function collectionHash(collection: Collection<Document>, normalize: (doc: Document) => Document = (d) => d): Promise<string> {
  const hash = createHash('sha256');
  for await (const doc of collection.find({}, { sort: { _id: 1 } })) {
    hash.update(BSON.EJSON.stringify(normalize(doc), { relaxed: false }));
    hash.update('\n');
  }
  return hash.digest('hex');
}
