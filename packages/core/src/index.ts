// The public API of @mongrate/core, every export named (internal code imports the exact file, never this one).

// Errors
export {
  AuthenticationFailedError,
  BaselinedMigrationError,
  ChecksumDriftError,
  DatabaseNotReadyError,
  InterruptedError,
  InvalidOptionError,
  LockLostError,
  MigrateError,
  MigrateErrorCode,
  MigrationAlreadyAppliedError,
  MigrationFailedError,
  MigrationFileMissingError,
  MigrationLoadError,
  MigrationLockedError,
  MigrationNotAppliedError,
  MigrationNotFoundError,
  OutOfOrderError,
  PartialMigrationError,
  PartlyRevertedError,
  TargetChangedError,
  ValidationFailedError,
  findMigrateError,
  migrateErrorsOf,
  rootMigrateError,
  type DriftEntry,
  type LockHolder,
  type MigrateErrorOptions,
  type Remedy,
} from './errors.js';

// Migrations: what a migration file exports and gets
export {
  Direction,
  type Checkpoint,
  type ImpactReport,
  type MigrationContext,
  type MigrationCounts,
  type MigrationModule,
  type PreviewContext,
  type ProgressEvent,
  type ReportTable,
} from './migration.js';

// The migrator, and the lock-free state reader behind its read methods
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
  Migrator,
  type ConnectOptions,
  type DownOptions,
  type MigratorEvents,
  type MigratorOptions,
  type RunResult,
  type UpOptions,
} from './migrator.js';
export {
  DEFAULT_PREVIEW_SAMPLES,
  DEFAULT_PREVIEW_TOP,
  type HistoryOptions,
  type MigrationState,
  type PreviewOptions,
  type PreviewResult,
  type StateReader,
  type StatusReport,
  type VerifyReport,
} from './state-reader.js';
export type { MongooseConnection } from './mongoose-connection.js';

// Lock: the contract and its Mongo adapter
export { assertMayContinue, type AcquireOptions, type Lease, type LeaseGuard, type MigrationLock, type ServerFence, type UnlockResult } from './lock/migration-lock.js';
export {
  DEFAULT_LEASE_MS,
  MIN_LEASE_MS,
  MAX_LEASE_MS,
  DEFAULT_LOCK_COLLECTION,
  DEFAULT_LOCK_NAME,
  DEFAULT_LOCK_POLL_MS,
  DEFAULT_LOCK_WAIT_TIMEOUT_MS,
  MongoLock,
  type MongoLockOptions,
} from './lock/mongo-lock.js';
export { newRunIdentity, type RunIdentity } from './lock/run-identity.js';

// Storage: the contract and its Mongo adapter
export {
  DEFAULT_HISTORY_LIMIT,
  MigrationStatus,
  type AmendmentOutcome,
  type AttemptOutcome,
  type BeginAttempt,
  type FinishDetails,
  type HistoryEntry,
  type HistoryFilter,
  type MigrationRecord,
  type MigrationStorage,
  type RecordAmendment,
} from './storage/migration-storage.js';
export {
  DEFAULT_HISTORY_COLLECTION,
  DEFAULT_MIGRATIONS_COLLECTION,
  MongoMigrationStorage,
  type MongoMigrationStorageOptions,
} from './storage/mongo-migration-storage.js';
export { STATE_COLLECTION_OPTIONS } from './storage/state-collections.js';

// Sources: where migrations come from
export { folderSource, packageSource, resolveSource, type MigrationSource } from './sources/migration-source.js';
export { MIGRATION_FILE_PATTERN, findMigration, listMigrationFiles, loadMigrations, type LoadedMigration } from './sources/load-migrations.js';
export { createMigrationFile, defaultMigrationTemplate, toMigrationName } from './sources/create-migration.js';

// Logging
export { DEFAULT_LOG_LEVEL, createLogger, redactFormat, type LoggerOptions } from './logger.js';
export { carriesSecret, redactSecrets, redactValue } from './redact.js';
export { MAX_DATABASE_NAME_BYTES, databaseInUri, databaseNameProblem } from './database-name.js';

// Toolkit: batched, resumable, reversible data changes
export { WritePath, backupAndUpdate, type BackupAndUpdateOptions, type BackupAndUpdateResult } from './toolkit/backup-and-update.js';
export {
  MAX_LISTED_CONFLICTS,
  restoreBackups,
  type RestoreBackupsOptions,
  type RestoreBackupsResult,
  type RestoreConflict,
} from './toolkit/restore-backups.js';
export { DEFAULT_BACKUP_COLLECTION, DEFAULT_MAX_PASSES, MAX_BATCH_SIZE, MAX_CONCURRENCY, backupPrefix, type BackupDocument } from './toolkit/backup-document.js';
export { ESTIMATE_PROBE_SIZE, estimateBackupAndUpdate, type EstimateOptions } from './toolkit/estimate-duration.js';
export { inspectBackups, type BackupCounts, type InspectBackupsOptions, type InspectBackupsResult } from './toolkit/inspect-backups.js';
export type { MongooseModelLike, ToolkitTarget } from './toolkit/target.js';
export { AUTHENTICATION_FAILED, authenticationFailure, hasPassword, userOf } from './authentication-failure.js';
export { findOutOfOrder } from './storage/out-of-order.js';
export type { BaselineOptions, BaselineResult } from './storage/baseline.js';
export { RepairResolution, type RepairOptions, type RepairResult } from './storage/repair.js';
export { CONFIG_FILE_NAMES, CONFIG_KEYS, ambiguousConfigFiles, configFromEnv, envName, findConfigFile, findConfigFiles, loadConfig, type ConfigKey, type LoadConfigOptions, type LoadedConfig, type MongrateConfig } from './config/load-config.js';
export { migratorOptionsFromConfig, type ConfiguredMigratorOptions } from './config/migrator-options-from-config.js';
export { BuiltInTemplate, MigrationFileExtension, migrationTemplate, type MigrationTemplate } from './sources/migration-templates.js';
