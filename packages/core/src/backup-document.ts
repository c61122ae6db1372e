import { BSON, ObjectId, type Document } from 'mongodb';
import { InvalidOptionError } from './errors.js';

export const DEFAULT_BACKUP_COLLECTION = 'migration_backups';
/** Most passes `backupAndUpdate` makes over targets that appeared behind it. */
export const DEFAULT_MAX_PASSES = 3;

/** One document's before-values, stored before the migration writes it. */
export interface BackupDocument {
  /** `migration|collection|docId`: the same target always maps to the same backup. */
  _id: string;
  migration: string;
  collection: string;
  docId: unknown;
  /** Values of the backed-up fields that were present. */
  before: Record<string, unknown>;
  /** Backed-up fields that were absent (restored by `$unset`). */
  missing: string[];
  /** What the migration wrote; restore only touches documents that still hold it. */
  after: Record<string, unknown>;
  createdAt: Date;
  /** Set on copies kept for documents that `restore` found changed since. */
  conflict?: { at: Date; runId: string; current: Document | null };
}

/** The `_id` prefix of one migration's backups of one collection. */
export function backupPrefix(migrationId: string, collection: string): string {
  return `${migrationId}|${collection}|`;
}

/** A range on `_id` that selects every backup under `prefix`, served by the `_id` index. */
export function backupRange(prefix: string): { $gte: string; $lt: string } {
  return { $gte: prefix, $lt: `${prefix}\uffff` };
}

export function backupId(prefix: string, docId: unknown): string {
  if (docId instanceof ObjectId) return `${prefix}o:${docId.toHexString()}`;
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

export function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new InvalidOptionError(`batchSize must be a whole number from 1 to 100000 (got ${batchSize}).`);
  }
}

/** Equality of BSON values as stored (type-exact: an int is not a string). */
export function sameValue(a: unknown, b: unknown): boolean {
  return BSON.EJSON.stringify({ v: a }, { relaxed: false }) === BSON.EJSON.stringify({ v: b }, { relaxed: false });
}
