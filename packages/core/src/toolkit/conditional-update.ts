import { BSON, type AnyBulkWriteOperation, type Document } from 'mongodb';
import { constant, exactExpression } from './backup-document.js';
import { UNSUPPORTED_FEATURE_CODES, hasCode, writeErrorsOf } from '../driver-errors.js';

/**
 * Builds each document's write, found by `_id` alone (the server's cheapest update; measured on DocumentDB, per 1,000
 * documents about 140 ms, against about 220 ms for the same check in the query filter): an update pipeline that sets
 * each field of `set` and removes each of `unset` only where the document holds exactly `values` and lacks `missing`
 * (`exactExpression`), and else leaves it as it is. Field by field: a `$replaceWith` of the unchanged `$$ROOT` counts
 * as modified on DocumentDB, while `$set` of a field to itself does not (DocumentDB and MongoDB), so the bulk's
 * `modifiedCount` is the number of documents written. Documents with the same values and writes (the usual case: a
 * migration's targets hold the same before-values, its backups the same written values) share one pipeline object,
 * so a batch allocates one pipeline, not one per document.
 */
export class ConditionalUpdates {
  readonly #pipelines = new Map<string, Document[]>();

  update(id: unknown, values: Readonly<Record<string, unknown>>, missing: readonly string[], set: Readonly<Record<string, unknown>>, unset: readonly string[] = []): AnyBulkWriteOperation<Document> {
    const key = `${stateKey(values, missing)}\u0001${stateKey(set, unset)}`;
    let pipeline = this.#pipelines.get(key);
    if (pipeline === undefined) {
      if (this.#pipelines.size >= MAX_SHARED_PIPELINES) this.#pipelines.clear();
      const unchanged = exactExpression(values, missing);
      const fields: Document = {};
      for (const [field, value] of Object.entries(set)) fields[field] = { $cond: [unchanged, constant(value), `$${field}`] };
      for (const field of unset) fields[field] = { $cond: [unchanged, '$$REMOVE', `$${field}`] };
      pipeline = [{ $set: fields }];
      this.#pipelines.set(key, pipeline);
    }
    return { updateOne: { filter: { _id: id } as Document, update: pipeline } };
  }
}

/** Distinct pipelines kept for sharing; past this many (documents that all differ) the cache starts over. */
const MAX_SHARED_PIPELINES = 256;

/**
 * A key that differs whenever two document states differ: in a field held (its name, value, BSON type or form) or a
 * field absent. Field names cannot hold NUL (BSON names are C strings), so the parts cannot run into each other.
 */
export function stateKey(values: Readonly<Record<string, unknown>>, missing: readonly string[] = []): string {
  return `${recordKey(values)}\u0000${missing.join('\u0000')}`;
}

/** A key that differs whenever two records differ in a name, a value or a value's BSON type or form. */
function recordKey(record: Readonly<Record<string, unknown>>): string {
  let key = '';
  for (const [field, value] of Object.entries(record)) key += `${JSON.stringify(field)}=${valueKey(value)};`;
  return key;
}

function valueKey(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `s${JSON.stringify(value)}`;
    case 'boolean':
      return value ? 'T' : 'F';
    case 'undefined':
      return 'U';
    case 'bigint':
      return `l${value}`;
    case 'number':
      return `n${Object.is(value, -0) ? '-0' : String(value)}`;
    default:
  }
  if (value === null) return 'N';
  if (value instanceof Date) return `D${value.getTime()}`;
  if (Array.isArray(value)) return `[${value.map(valueKey).join(',')}]`;
  if (value instanceof RegExp) return `R${JSON.stringify(value.source)}${value.flags}`;
  if (value instanceof Uint8Array) return `B${Buffer.from(value).toString('hex')}`;
  const type = (value as { _bsontype?: unknown })._bsontype;
  // An embedded document, field by field: one that spells Extended JSON (`{ $oid: … }`) is not the value it spells.
  if (type === undefined) return `{${recordKey(value as Record<string, unknown>)}}`;
  if (type === 'Int32' || type === 'Double') {
    const n = Number((value as { value: unknown }).value);
    return `${type}${Object.is(n, -0) ? '-0' : String(n)}`;
  }
  // The bytes of a Decimal are its exact form (1.0 and 1.00, and each kind of NaN); a Long's and an ObjectId's strings are exact.
  if (type === 'Decimal128') return `${type}${Buffer.from((value as { bytes: Uint8Array }).bytes).toString('hex')}`;
  if (type === 'Long' || type === 'ObjectId') return `${type}${String(value)}`;
  return `${String(type)}${BSON.EJSON.stringify({ v: value }, { relaxed: false })}`;
}

/** "Cannot run that pipeline" for an update given one: `UNSUPPORTED_FEATURE_CODES`, FailedToParse, TypeMismatch, BadValue. */
const PIPELINE_UPDATE_UNSUPPORTED_CODES: ReadonlySet<number> = new Set([...UNSUPPORTED_FEATURE_CODES, 2, 9, 14]);

/**
 * Whether a bulk of `operations` pipeline updates was refused as such: the command failed with an "unsupported" code,
 * or every update failed with one (then none was written, and the batch can be written another way).
 */
export function pipelineUpdateRefused(error: unknown, operations: number): boolean {
  // A bulk error carries its first write error's code as its own: with write errors, only they decide.
  const failed = writeErrorsOf(error);
  if (failed !== undefined) return failed.length === operations && failed.every((e) => hasCode(e, PIPELINE_UPDATE_UNSUPPORTED_CODES));
  return hasCode(error, PIPELINE_UPDATE_UNSUPPORTED_CODES);
}

/**
 * Whether the server takes update pipelines, learnt from the first refusal: `write` runs `withPipeline` until a bulk
 * of pipeline updates is refused as such (`pipelineUpdateRefused`; then nothing of it was written), and `without` from
 * then on, after one warning and a fresh lease check.
 */
export class PipelineSupport {
  #taken = true;

  constructor(
    private readonly warn: (message: string, meta: Record<string, unknown>) => void,
    private readonly guard: () => void,
  ) {}

  async write<T>(operations: number, withPipeline: () => Promise<T>, without: () => Promise<T>): Promise<T> {
    if (this.#taken) {
      try {
        return await withPipeline();
      } catch (error) {
        if (!pipelineUpdateRefused(error, operations)) throw error;
        this.warn('this server cannot run an update pipeline; writing with compare-and-set queries and the $set operator', { error: String(error) });
        this.#taken = false;
        this.guard();
      }
    }
    return without();
  }
}
