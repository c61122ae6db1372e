import { backupAndUpdate, restoreBackups } from '@mongrate/core';
import { userSchema } from '../models.js';

export const description = 'Activate pending users, through the app model on ctx.connection';

const userModel = (ctx) => ctx.connection.models.User ?? ctx.connection.model('User', userSchema, 'users');

export async function up(ctx) {
  const User = userModel(ctx);
  const result = await backupAndUpdate(ctx, {
    model: User,
    filter: { status: 'pending' },
    fields: ['status', 'activatedAt'],
    set: { status: 'active', activatedAt: ctx.migration.runAt },
  });
  await ctx.db.collection('runs').insertOne({ migration: ctx.migration.id, direction: 'up', pid: process.pid });
  return { activated: result.updated };
}

export async function down(ctx) {
  const result = await restoreBackups(ctx, { model: userModel(ctx) });
  return { restored: result.restored, conflicts: result.conflicts };
}
