import type { MigrationContext, MigrationCounts } from '@mongrate/core';
import type { Connection } from 'mongoose';

export const description = 'Tag every note (a typed migration using the Mongoose connection)';

export async function up(ctx: MigrationContext): Promise<MigrationCounts> {
  const connection = ctx.connection as Connection;
  const { modifiedCount } = await connection.collection('notes').updateMany({ tagged: { $ne: true } }, { $set: { tagged: true } });
  return { tagged: modifiedCount };
}

export async function down(ctx: MigrationContext): Promise<void> {
  await ctx.db.collection('notes').updateMany({}, { $unset: { tagged: '' } });
}
