import type { Collection, Document, Filter } from 'mongodb';
import { EXACT_READ } from './backup-document.js';

/**
 * Reads the documents matching `filter` in `_id` order, `batchSize` at a time, each batch a fresh query for the next
 * `_id` range (`_id > last`, sorted, limited), and hands each batch to `handle` after `beforeBatch`. The server walks
 * the `_id` index once over the whole scan; no cursor stays open between batches, so none is re-run or restarted.
 *
 * A range condition on `_id` only matches ids of the same BSON type as its bound, so when one type's ids run out the
 * scan continues with the smallest id of a type not yet scanned. A document whose `_id` is below the scan position
 * when it starts to match is not seen (callers sweep again).
 */
export async function scanByIdRanges(
  collection: Collection<Document>,
  filter: Filter<Document>,
  projection: Document,
  batchSize: number,
  beforeBatch: () => void,
  handle: (batch: Document[]) => Promise<void>,
): Promise<void> {
  const scannedTypes: string[] = [];
  let after: unknown;
  let typed = false;
  for (;;) {
    const bound: Document | undefined = typed ? { _id: { $gt: after } } : scannedTypes.length > 0 ? { _id: { $not: { $type: scannedTypes } } } : undefined;
    const query = (bound === undefined ? filter : { $and: [filter, bound] }) as Filter<Document>;
    const page = await collection.find(query, { projection, sort: { _id: 1 }, limit: batchSize, ...EXACT_READ }).toArray();
    const last = page.at(-1);
    if (last === undefined) {
      if (!typed) return;
      // This type's ids are done: go on with the next type's.
      scannedTypes.push(...typeBracketOf(after));
      typed = false;
      continue;
    }
    beforeBatch();
    await handle(page);
    after = last._id;
    typed = true;
  }
}

/** The `$type` names whose values `_id: { $gt: value }` can match: one comparison bracket of BSON types. */
export function typeBracketOf(value: unknown): string[] {
  if (value === null || value === undefined) return ['null', 'undefined'];
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return ['double', 'int', 'long', 'decimal'];
    case 'string':
      return ['string', 'symbol'];
    case 'boolean':
      return ['bool'];
    default:
      break;
  }
  if (value instanceof Date) return ['date'];
  const bson = typeof value === 'object' && '_bsontype' in value ? String((value as { _bsontype: unknown })._bsontype) : undefined;
  switch (bson) {
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return ['double', 'int', 'long', 'decimal'];
    case 'ObjectId':
    case 'ObjectID':
      return ['objectId'];
    case 'Binary':
      return ['binData'];
    case 'Timestamp':
      return ['timestamp'];
    case 'BSONSymbol':
      return ['string', 'symbol'];
    case 'MinKey':
      return ['minKey'];
    case 'MaxKey':
      return ['maxKey'];
    case 'BSONRegExp':
      return ['regex'];
    default:
      return ['object'];
  }
}
