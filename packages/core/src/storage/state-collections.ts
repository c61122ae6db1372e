import type { CollectionOptions, Db, Document } from 'mongodb';

/**
 * How every lease, record, history and checkpoint operation talks to the server, whatever the client's defaults:
 * acknowledged by a majority and journaled, read at majority from the primary. A lease a primary acknowledged and
 * then rolled back, or a record read from a lagging secondary, could otherwise let two processes run one migration.
 * Data batches are not affected: they keep the client's settings.
 */
export const STATE_COLLECTION_OPTIONS = {
  writeConcern: { w: 'majority', journal: true },
  readConcern: { level: 'majority' },
  readPreference: 'primary',
} as const satisfies CollectionOptions;

/** A state collection with `STATE_COLLECTION_OPTIONS`. */
export function stateCollection<T extends Document>(db: Db, name: string) {
  return db.collection<T>(name, STATE_COLLECTION_OPTIONS);
}
