import type { Logger } from 'winston';
import { messageOf } from '../driver-errors.js';
import { MigrateErrorCode, findMigrateError } from '../errors.js';
import type { LeaseGuard } from '../lock/migration-lock.js';
import type { RunIdentity } from '../lock/run-identity.js';
import type { Checkpoint, Direction, MigrationCounts } from '../migration.js';
import { redactSecrets } from '../redact.js';
import type { LoadedMigration } from '../sources/load-migrations.js';
import type { MigrationRecord, MigrationStorage } from './migration-storage.js';

/**
 * Owns the record lifecycle of every attempt a run makes: `begin` marks it started under the lease, its `checkpoint`
 * saves progress, and it ends through `succeed` or `fail`, each of which appends the history entry. Every write is
 * fenced by the lease.
 */
export class RecordKeeper {
  constructor(
    private readonly storage: MigrationStorage,
    private readonly identity: RunIdentity,
    private readonly logger: Logger,
  ) {}

  /** Marks the attempt started (`applying` or `reverting`), resuming an unfinished one in the same direction. */
  async begin(migration: LoadedMigration, direction: Direction, lease: LeaseGuard, options: { readonly outOfOrder?: boolean; readonly batchSize?: number } = {}): Promise<Attempt> {
    const record = await this.storage.begin({
      id: migration.id,
      direction,
      checksum: migration.checksum,
      source: { namespace: migration.namespace, ...(migration.source.version ? { version: migration.source.version } : {}) },
      identity: this.identity,
      fence: lease.fence,
    });
    if (record.checkpoint !== undefined) this.logger.info('resuming from checkpoint', { migration: migration.id, direction });
    return new Attempt(this.storage, this.logger, record, direction, lease.fence, options.outOfOrder === true, options.batchSize);
  }
}

/** One started attempt of one migration in one direction. */
export class Attempt {
  readonly checkpoint: Checkpoint;

  constructor(
    private readonly storage: MigrationStorage,
    private readonly logger: Logger,
    /** The record as `begin` left it. */
    readonly record: MigrationRecord,
    private readonly direction: Direction,
    private readonly fence: string,
    /** This attempt applies the migration out of order. */
    private readonly outOfOrder = false,
    /** The run's batch size, for the history entry. */
    private readonly batchSize?: number,
  ) {
    this.checkpoint = {
      load: <T>() => record.checkpoint as T | undefined,
      save: (value: unknown) => storage.saveCheckpoint(record._id, fence, value),
    };
  }

  /** Records success: `applied` (up) or `rolled_back` (down), with the migration's counts. */
  async succeed(counts: MigrationCounts | undefined): Promise<void> {
    await this.storage.finish(this.record._id, this.fence, this.direction === 'up' ? 'applied' : 'rolled_back', {
      counts,
      ...(this.outOfOrder ? { outOfOrder: true } : {}),
      ...(this.batchSize !== undefined ? { batchSize: this.batchSize } : {}),
    });
  }

  /**
   * Records a failure (`interrupted` for a requested stop), with the redacted message. A lost lease means another
   * process owns the record now: it is left alone. Never throws: the migration's own error is what the caller reports.
   */
  async fail(error: unknown): Promise<void> {
    if (findMigrateError(error, MigrateErrorCode.LockLost)) return;
    const outcome = findMigrateError(error, MigrateErrorCode.Interrupted) ? 'interrupted' : 'failed';
    await this.storage
      .finish(this.record._id, this.fence, outcome, { error: redactSecrets(messageOf(error)) })
      .catch((e: unknown) => this.logger.error('could not record the failure', { migration: this.record._id, error: String(e) }));
  }
}
