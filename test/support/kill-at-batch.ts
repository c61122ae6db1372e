// Lives in support/ (scripts use it too); tests keep importing it from here.
export { MIGRATE_WORKER, killAtBatch, type KillAtBatchOptions } from '../../support/kill-at-batch.js';
