export * from './cashu-token.js';
export * from './cashu-wallet.js';
export * from './register-models.js';
export * from './sample-data.js';
