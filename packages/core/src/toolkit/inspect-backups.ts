import type { Db, Document } from 'mongodb';
import { DEFAULT_BACKUP_COLLECTION, type BackupDocument } from './backup-document.js';

export interface InspectBackupsOptions {
  /** The migration whose backups to count. */
  readonly migrationId: string;
  /** Default `DEFAULT_BACKUP_COLLECTION` (`migration_backups`). */
  readonly backupCollection?: string;
}

/** What one collection's backups of one migration amount to. */
export interface BackupCounts {
  /** Backups `restoreBackups` would act on (every backup but parked conflicts). */
  readonly live: number;
  /** Copies kept by a restore that found the document changed since (`conflict|…` ids). */
  readonly conflicts: number;
  /**
   * Live backups whose document does not hold what `up` wrote (the migration never flipped it, the app changed it
   * since, or it is gone): `restoreBackups` would not write them and would report them as conflicts. Values are
   * compared as the server compares them (a Double 5.0 equals an Int32 5).
   */
  readonly orphaned: number;
}

export interface InspectBackupsResult extends BackupCounts {
  /** The same counts per data collection. */
  readonly byCollection: Readonly<Record<string, BackupCounts>>;
}

/**
 * Counts one migration's backups: live ones, parked conflicts, and orphaned ones. Reads only: one `distinct` for the
 * collections involved, then one aggregation per collection that looks each backup's document up by `_id`.
 */
export async function inspectBackups(db: Db, options: InspectBackupsOptions): Promise<InspectBackupsResult> {
  const backups = db.collection<BackupDocument>(options.backupCollection ?? DEFAULT_BACKUP_COLLECTION);
  const collections = (await backups.distinct('collection', { migration: options.migrationId })).filter((c): c is string => typeof c === 'string');
  const byCollection: Record<string, BackupCounts> = {};
  let live = 0;
  let conflicts = 0;
  let orphaned = 0;
  for (const collection of collections.sort()) {
    const [row] = await backups
      .aggregate<BackupCounts>([
        { $match: { migration: options.migrationId, collection } },
        { $addFields: { parked: { $eq: [{ $substrCP: ['$_id', 0, 9] }, 'conflict|'] } } },
        { $lookup: { from: collection, localField: 'docId', foreignField: '_id', as: 'doc' } },
        {
          $project: {
            parked: 1,
            // What up wrote, as { k, v } pairs, all found in the document as it is now.
            holds: { $setIsSubset: [{ $objectToArray: '$after' }, { $objectToArray: { $ifNull: [{ $first: '$doc' }, {}] } }] },
          },
        },
        {
          $group: {
            _id: null,
            live: { $sum: { $cond: ['$parked', 0, 1] } },
            conflicts: { $sum: { $cond: ['$parked', 1, 0] } },
            orphaned: { $sum: { $cond: [{ $or: ['$parked', '$holds'] }, 0, 1] } },
          },
        },
        { $project: { _id: 0, live: 1, conflicts: 1, orphaned: 1 } },
      ] satisfies Document[])
      .toArray();
    const counts = { live: row?.live ?? 0, conflicts: row?.conflicts ?? 0, orphaned: row?.orphaned ?? 0 };
    byCollection[collection] = counts;
    live += counts.live;
    conflicts += counts.conflicts;
    orphaned += counts.orphaned;
  }
  return { live, conflicts, orphaned, byCollection };
}
