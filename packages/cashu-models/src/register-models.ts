import mongoose, { type Connection, type Model } from 'mongoose';
import { cashuTokenSchema, type CashuToken } from './cashu-token.js';
import { cashuWalletSchema, type CashuWallet } from './cashu-wallet.js';

export interface CashuModels {
  readonly CashuToken: Model<CashuToken>;
  readonly CashuWallet: Model<CashuWallet>;
}

/** Registers (or returns) the models on a connection; default: mongoose's default connection. */
export function cashuModels(connection: Connection = mongoose.connection): CashuModels {
  return {
    CashuToken: (connection.models.CashuToken as Model<CashuToken> | undefined) ?? connection.model<CashuToken>('CashuToken', cashuTokenSchema),
    CashuWallet: (connection.models.CashuWallet as Model<CashuWallet> | undefined) ?? connection.model<CashuWallet>('CashuWallet', cashuWalletSchema),
  };
}
