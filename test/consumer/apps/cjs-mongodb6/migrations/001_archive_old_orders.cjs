const { backupAndUpdate, restoreBackups } = require('@mongrate/core');

exports.description = 'Archive orders that were closed';

exports.up = async (ctx) => {
  const result = await backupAndUpdate(ctx, { collection: 'orders', filter: { state: 'closed' }, fields: ['state'], set: { state: 'archived' } });
  return { archived: result.updated };
};

exports.down = async (ctx) => {
  const result = await restoreBackups(ctx, { collection: 'orders' });
  return { restored: result.restored };
};
