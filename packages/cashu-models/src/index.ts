// The models' public API. Seeded sample data is not part of it: it lives at `@nctool/cashu-models/sample-data`.
export {
  CASHU_TOKEN_COLLECTION,
  TOKEN_STATUSES,
  TRANSACTION_TYPES,
  TokenStatus,
  TransactionType,
  cashuTokenSchema,
  type CashuToken,
  type Proof,
} from './cashu-token.js';
export { CASHU_WALLET_COLLECTION, cashuWalletSchema, type CashuWallet } from './cashu-wallet.js';
export { cashuModels, type CashuModels } from './register-models.js';
