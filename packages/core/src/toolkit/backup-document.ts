import { BSON, type Document } from 'mongodb';
import { InvalidOptionError } from '../errors.js';

export const DEFAULT_BACKUP_COLLECTION = 'migration_backups';
/** Most passes `backupAndUpdate` makes over targets that appeared behind it. */
export const DEFAULT_MAX_PASSES = 3;

/**
 * How the toolkit reads documents and backups: no promotion, so a Double 5.0 stays a Double, a Long stays a Long
 * and a regular expression keeps flags JavaScript lacks, at any depth. Written back as read, every BSON type survives.
 */
export const EXACT_READ = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

/** One document's before-values, stored before the migration writes it. */
export interface BackupDocument {
  /** `migration|collection|docId` (with a step: `migration|collection|@step|docId`): one backup per target. */
  _id: string;
  migration: string;
  collection: string;
  /** The `backupAndUpdate` step that wrote it, when the migration names its steps. */
  step?: string;
  docId: unknown;
  /** Values of the backed-up fields that were present, exactly as stored (types included). */
  before: Record<string, unknown>;
  /** Backed-up fields that were absent (restored by `$unset`). */
  missing: string[];
  /** What the migration wrote; restore only touches documents that still hold it, and only these fields. */
  after: Record<string, unknown>;
  createdAt: Date;
  /** Set on copies kept for documents that `restore` found changed since. */
  conflict?: { at: Date; runId: string; current: Document | null };
}

/** The `_id` prefix of one migration's backups of one collection (and one step, if named). */
export function backupPrefix(migrationId: string, collection: string, step?: string): string {
  return step === undefined ? `${migrationId}|${collection}|` : `${migrationId}|${collection}|@${step}|`;
}

/**
 * A range on `_id` that selects every backup under `prefix`, served by the `_id` index. Document ids are encoded as
 * `j:`, `o:` or `s:` (see `backupId`), so the range [`j:`, `s;`) holds all of them and none of a named step's (`@…`).
 */
export function backupRange(prefix: string): { $gte: string; $lt: string } {
  return { $gte: `${prefix}j:`, $lt: `${prefix}s;` };
}

/** A backup's `_id`: type-exact (an ObjectId and the string of its hex never collide). */
export function backupId(prefix: string, docId: unknown): string {
  if (bsonTypeOf(docId) === 'ObjectId') return `${prefix}o:${(docId as { toHexString(): string }).toHexString()}`;
  if (typeof docId === 'string') return `${prefix}s:${docId}`;
  return `${prefix}j:${BSON.EJSON.stringify(docId, { relaxed: false })}`;
}

/** Backed-up fields are top-level names; the toolkit restores them with `$set`/`$unset`. */
export function checkFields(fields: readonly string[], set: Readonly<Record<string, unknown>>): void {
  if (fields.length === 0) throw new InvalidOptionError('fields must name at least one field to back up.');
  for (const field of fields) {
    if (!field || field.includes('.') || field.startsWith('$') || field === '_id') {
      throw new InvalidOptionError(`Backed-up field "${field}" must be a top-level field name other than _id (no dots, no $).`);
    }
  }
  for (const key of Object.keys(set)) {
    if (!fields.includes(key)) throw new InvalidOptionError(`Field "${key}" is written but not backed up: add it to fields.`);
  }
}

/** The largest batch the toolkit accepts. */
export const MAX_BATCH_SIZE = 100_000;

export function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new InvalidOptionError(`batchSize must be a whole number from 1 to ${MAX_BATCH_SIZE} (got ${batchSize}).`);
  }
}

/** Most batches the toolkit runs at once. */
export const MAX_CONCURRENCY = 16;

export function checkConcurrency(concurrency: number): void {
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new InvalidOptionError(`concurrency must be a whole number from 1 to ${MAX_CONCURRENCY} (got ${concurrency}).`);
  }
}

/** Step names become part of backup ids, so they are restricted to characters that cannot end a prefix. */
export function checkStep(step: string | undefined): void {
  if (step !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(step)) {
    throw new InvalidOptionError(`step "${step}" must be 1 to 64 letters, digits, "_" or "-".`);
  }
}

/**
 * Equality of BSON values as stored (type-exact: an int is not a string, a Double 5.0 is not an Int32 5, an embedded
 * document `{ $oid: … }` is not an ObjectId): their BSON bytes are the same.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  return Buffer.from(BSON.serialize({ v: a }, { ignoreUndefined: true })).equals(BSON.serialize({ v: b }, { ignoreUndefined: true }));
}

/** A type-exact key for a document id, for maps (never `JSON.stringify`, which prints an ObjectId like its hex string). */
export function idKey(id: unknown): string {
  return backupId('', id);
}

/** `values` as the server stores them (a JS number becomes an Int32 or a Double), for comparing with documents read by `EXACT_READ`. */
export function asStored(values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return BSON.deserialize(BSON.serialize(values), EXACT_READ);
}

/** Whether `doc` holds exactly `values` and lacks every field of `missing`. */
export function holds(doc: Document, values: Readonly<Record<string, unknown>>, missing: readonly string[] = []): boolean {
  return Object.entries(values).every(([field, value]) => field in doc && sameValue(doc[field], value)) && missing.every((field) => !(field in doc));
}

/**
 * A query condition true exactly when each field holds `values[field]` and each of `missing` is absent. One `$expr`
 * compares an array built from the fields, and from the top-level BSON type of each whose equality alone would not
 * tell it (5 equals 5.0; a string equals a symbol; null equals undefined), with the expected one, as whole values
 * (`{ a: 1 }` would also match an array holding 1; an absent field is compared by its type, `missing`, so it never
 * equals a null); for a Double or a Decimal, also its exact form (1.0 and 1.00, 0 and -0). A numeric type or form
 * changed deeper inside an object or array, with the same value, is not seen, nor a string there turned into a
 * symbol. One comparison per document keeps the server's work small (measured on DocumentDB, per 1,000 updates: one
 * query operator per field about 280 ms; one comparison, of an object or of an array, 136 to 163 ms, the type checks
 * being most of it). The array form is for the client: every document's statement is serialized on its own, and each
 * nested object or array costs as much as its bytes.
 */
export function exactMatch(values: Readonly<Record<string, unknown>>, missing: readonly string[] = []): Document {
  return { $expr: exactExpression(values, missing) };
}

/** The aggregation expression inside `exactMatch`: true exactly when the document holds `values` and lacks `missing`. */
export function exactExpression(values: Readonly<Record<string, unknown>>, missing: readonly string[] = []): Document {
  const actual: unknown[] = [];
  const expected: unknown[] = [];
  const forms: Document[] = [];
  for (const [field, value] of Object.entries(values)) {
    actual.push(`$${field}`);
    expected.push(constant(value));
    const type = aggregationType(value);
    if (type !== undefined && !TYPE_EXACT_UNDER_EQ.has(type)) {
      actual.push({ $type: `$${field}` });
      expected.push(type);
    }
    // Equal numbers can still differ: a Decimal's precision (1.0, 1.00) or a zero's sign. The server's own string of
    // each tells them apart.
    if (type === 'double' || type === 'decimal') forms.push({ $eq: [{ $toString: `$${field}` }, { $toString: constant(value) }] });
  }
  for (const field of missing) {
    actual.push({ $type: `$${field}` });
    expected.push('missing');
  }
  const equal = { $eq: [actual, expected] };
  return forms.length === 0 ? equal : { $and: [equal, ...forms] };
}

/**
 * `value` as an aggregation constant: as it is where the server cannot read it as an expression (a number, a boolean,
 * null, a date, a BSON scalar, a string not starting with `$`), else inside `$literal`. Fewer nested objects per
 * statement: less to serialize and to parse.
 */
export function constant(value: unknown): unknown {
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return value;
  if (typeof value === 'string') return value.startsWith('$') ? { $literal: value } : value;
  if (value instanceof Date) return value;
  const type = bsonTypeOf(value);
  return type !== undefined && PLAIN_BSON_TYPES.has(type) ? value : { $literal: value };
}

/** BSON classes whose values are constants in an expression (never documents, arrays or code). */
const PLAIN_BSON_TYPES: ReadonlySet<string> = new Set(['ObjectId', 'ObjectID', 'Double', 'Int32', 'Long', 'Decimal128', 'Timestamp', 'MinKey', 'MaxKey']);

/** Types that aggregation `$eq` never finds equal to a value of another type (unlike numbers, strings and symbols, null and undefined). */
const TYPE_EXACT_UNDER_EQ: ReadonlySet<string> = new Set(['bool', 'date', 'objectId', 'object', 'array', 'binData', 'regex', 'timestamp', 'minKey', 'maxKey']);

/** A value's BSON class name (`ObjectId`, `Double`, …) when it is one, from any copy of the driver. */
export function bsonTypeOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || !('_bsontype' in value)) return undefined;
  const type = (value as { _bsontype: unknown })._bsontype;
  return typeof type === 'string' ? type : undefined;
}

const AGGREGATION_TYPES: Readonly<Record<string, string>> = {
  ObjectId: 'objectId',
  ObjectID: 'objectId',
  Double: 'double',
  Int32: 'int',
  Long: 'long',
  Decimal128: 'decimal',
  Binary: 'binData',
  Timestamp: 'timestamp',
  BSONRegExp: 'regex',
  BSONSymbol: 'symbol',
  MinKey: 'minKey',
  MaxKey: 'maxKey',
  DBRef: 'object',
};

/** The name `$type` gives a value as the driver would store it; undefined when unsure (then only the value is compared). */
function aggregationType(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'long';
    case 'number':
      return Number.isInteger(value) && !Object.is(value, -0) && value >= -(2 ** 31) && value < 2 ** 31 ? 'int' : 'double';
    case 'object':
      break;
    default:
      return undefined;
  }
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date';
  if (value instanceof RegExp) return 'regex';
  if (value instanceof Uint8Array) return 'binData';
  const bson = bsonTypeOf(value);
  if (bson === 'Code') return (value as { scope?: unknown }).scope ? 'javascriptWithScope' : 'javascript';
  if (bson !== undefined) return AGGREGATION_TYPES[bson];
  return 'object';
}

