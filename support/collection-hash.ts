import { createHash } from 'node:crypto';
import { BSON, type Collection, type Document } from 'mongodb';

/** How raw documents are read when they must be rewritten: no promotion, so every BSON type survives. */
const EXACT = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

/**
 * sha256 of every document's raw BSON bytes (types and field order included), in `_id` order. With `normalize`,
 * each document is decoded without type promotion, rewritten, and encoded again before hashing.
 */
export async function collectionHash(collection: Collection<Document>, normalize?: (doc: Document) => Document): Promise<string> {
  const hash = createHash('sha256');
  for await (const raw of collection.find({}, { sort: { _id: 1 }, raw: true })) {
    const bytes = raw as unknown as Uint8Array;
    hash.update(normalize ? BSON.serialize(normalize(BSON.deserialize(bytes, EXACT))) : bytes);
    hash.update('\n');
  }
  return hash.digest('hex');
}
