/**
 * Lightning payments (melts) left their tokens at `status: 'unspent'`, so balances counted sats already paid out.
 * `up` backs up `status` and `spent_at` of exactly those tokens, then marks them spent at the migration's time.
 * `down` restores the previous values of every token still as `up` left it; tokens changed since are reported.
 * Every step goes through the app's `CashuToken` model, bound to the migration's Mongoose connection (`ctx.connection`).
 */
import {
  ValidationFailedError,
  backupAndUpdate,
  estimateBackupAndUpdate,
  restoreBackups,
  type ImpactReport,
  type MigrationContext,
  type MigrationCounts,
  type PreviewContext,
} from '@mongrate/core';
import { TokenStatus, TransactionType, cashuModels } from '@nctool/cashu-models';
import type { Connection } from 'mongoose';

export const description = "Mark melted tokens stuck at status 'unspent' as spent (they inflate balances).";

const TARGETS = { transaction_type: TransactionType.melted, status: TokenStatus.unspent };
const FIELDS = ['status', 'spent_at'] as const;
const NUMERIC_TYPES = ['int', 'long', 'double', 'decimal'];
/** A token's sats: a number, or a numeric string converted; 0 when absent; null when it cannot be summed. */
const SATS = {
  $switch: {
    branches: [
      // Decimals as doubles: a sum of sats is for reading, and a Decimal128 total is not a number to the report.
      { case: { $eq: [{ $type: '$total_amount' }, 'decimal'] }, then: { $toDouble: '$total_amount' } },
      { case: { $in: [{ $type: '$total_amount' }, NUMERIC_TYPES] }, then: '$total_amount' },
      { case: { $in: [{ $type: '$total_amount' }, ['missing', 'null']] }, then: 0 },
      { case: { $eq: [{ $type: '$total_amount' }, 'string'] }, then: { $convert: { input: '$total_amount', to: 'double', onError: null, onNull: null } } },
    ],
    default: null,
  },
};

/** nctool's CashuToken model on this migration's connection (the same client and database as `ctx.db`). */
const tokenModel = (ctx: MigrationContext | PreviewContext) => cashuModels(ctx.connection as Connection).CashuToken;

interface UserImpact {
  readonly npub: string;
  readonly tokens: number;
  readonly sats: number;
}

export async function preview(ctx: PreviewContext): Promise<ImpactReport> {
  const CashuToken = tokenModel(ctx);
  // One aggregation over the melted tokens. `$project` keeps only what the report needs, with each token's sats worked
  // out once (each `$facet` branch reads its input again, and whole tokens carry their proofs); then one branch counts
  // them, one groups the targets by user once (as a plain `$group` would) and folds those groups into the totals and
  // the top users by sats, and one picks the oldest samples. Only those few rows reach us. Amounts stored as numeric
  // strings are counted too; any other amount cannot be summed and is counted apart.
  const [facets] = await CashuToken.aggregate<{
    melted: Array<{ n: number }>;
    targets: Array<{ users: number; tokens: number; sats: number; unsummable: number; top: Array<{ npub: string | null; tokens: number; sats: number }> }>;
    samples: Array<{ transaction_id: unknown; total_amount: unknown; sats: number | null; createdAt: unknown; npub: unknown }>;
  }>([
    { $match: { transaction_type: TransactionType.melted } },
    // `status` stays as it is and each branch selects targets with the query `up` uses, so the preview counts exactly
    // what `up` migrates (a status stored as an array holding 'unspent' included).
    { $project: { npub: 1, status: 1, sats: SATS, total_amount: 1, createdAt: 1, transaction_id: 1 } },
    {
      $facet: {
        melted: [{ $count: 'n' }],
        targets: [
          { $match: { status: TokenStatus.unspent } },
          { $group: { _id: '$npub', tokens: { $sum: 1 }, sats: { $sum: { $ifNull: ['$sats', 0] } }, unsummable: { $sum: { $cond: [{ $eq: ['$sats', null] }, 1, 0] } } } },
          {
            $group: {
              _id: null,
              users: { $sum: 1 },
              tokens: { $sum: '$tokens' },
              sats: { $sum: '$sats' },
              unsummable: { $sum: '$unsummable' },
              top: { $topN: { n: Math.max(1, ctx.top), sortBy: { sats: -1, _id: 1 }, output: { npub: '$_id', tokens: '$tokens', sats: '$sats' } } },
            },
          },
        ],
        samples: [
          { $match: { status: TokenStatus.unspent } },
          { $sort: { createdAt: 1, _id: 1 } },
          { $limit: Math.max(1, ctx.samples) },
          { $project: { transaction_id: 1, total_amount: 1, sats: 1, createdAt: 1, npub: 1 } },
        ],
      },
    },
  ]);
  const totals = facets?.targets[0];
  const meltedTotal = facets?.melted[0]?.n ?? 0;
  const targets = totals?.tokens ?? 0;
  const sats = totals?.sats ?? 0;
  const unsummable = totals?.unsummable ?? 0;
  const users = totals?.users ?? 0;
  const top: UserImpact[] = ctx.top <= 0 ? [] : (totals?.top ?? []).map((u) => ({ npub: u.npub ?? '(none)', tokens: u.tokens, sats: u.sats }));
  const samples = ctx.samples <= 0 ? [] : (facets?.samples ?? []);
  const estimate = await estimateBackupAndUpdate(ctx, { model: CashuToken, filter: TARGETS, targets, fields: FIELDS });
  return {
    title: 'Fix melted token status',
    metrics: [
      { label: 'Total melted tokens', value: meltedTotal },
      { label: 'Tokens to migrate', value: targets },
      { label: 'Sats affected', value: sats },
      { label: 'Users affected', value: users },
      ...(unsummable > 0 ? [{ label: 'Tokens whose amount could not be summed', value: unsummable }] : []),
    ],
    estimate,
    tables: [
      {
        title: `User impact (top ${top.length} of ${users} by sats)`,
        columns: ['npub', 'tokens', 'sats'],
        rows: top.map((u) => [u.npub, u.tokens, u.sats]),
      },
      {
        title: `Sample tokens (${samples.length} oldest)`,
        columns: ['transaction_id', 'amount', 'created_at'],
        rows: samples.map((s) => [String(s.transaction_id), s.sats, s.createdAt instanceof Date ? s.createdAt.toISOString() : null]),
      },
    ],
    data: {
      meltedTotal,
      targets,
      sats,
      unsummable,
      users,
      topUsers: top,
      samples: samples.map((s) => ({ transaction_id: s.transaction_id, amount: s.total_amount, created_at: s.createdAt })),
    },
  };
}

export async function up(ctx: MigrationContext): Promise<MigrationCounts> {
  const result = await backupAndUpdate(ctx, {
    model: tokenModel(ctx),
    filter: TARGETS,
    fields: FIELDS,
    set: { status: TokenStatus.spent, spent_at: ctx.migration.runAt },
  });
  if (result.remaining > 0) {
    throw new ValidationFailedError(
      `${result.remaining} melted tokens are still unspent after ${result.passes} passes (they keep being written). Stop the writer, then run up again.`,
    );
  }
  return {
    flipped: result.updated,
    backedUp: result.backedUp,
    skipped: result.skipped,
    remaining: result.remaining,
    batches: result.batches,
    docsPerSecond: result.docsPerSecond,
  };
}

export async function down(ctx: MigrationContext): Promise<MigrationCounts> {
  const result = await restoreBackups(ctx, { model: tokenModel(ctx) });
  if (result.conflicts > 0) {
    ctx.logger.warn('some tokens changed after the migration and were left as they are', {
      conflicts: result.conflicts,
      sample: result.conflictList.slice(0, 5).map((c) => String(c.docId)),
    });
  }
  return {
    restored: result.restored,
    alreadyRestored: result.alreadyRestored,
    conflicts: result.conflicts,
    batches: result.batches,
    docsPerSecond: result.docsPerSecond,
  };
}

/** The CLI's one-line result: what `up` changed, or what `down` put back. */
export function summary(counts: MigrationCounts, direction: 'up' | 'down'): string {
  const n = (v: number | undefined) => (v ?? 0).toLocaleString('en-US');
  return direction === 'up' ? `affected ${n(counts.flipped)} documents` : `restored ${n(counts.restored)}, conflicts ${n(counts.conflicts)}`;
}
