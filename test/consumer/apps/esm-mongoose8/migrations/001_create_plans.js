export const description = 'Create the plans collection with one default plan';

export async function up(ctx) {
  await ctx.db.collection('plans').insertOne({ _id: 'free', seats: 1 });
  await ctx.db.collection('runs').insertOne({ migration: ctx.migration.id, direction: 'up', pid: process.pid });
  return { plans: 1 };
}

export async function down(ctx) {
  await ctx.db.collection('plans').deleteOne({ _id: 'free' });
}
