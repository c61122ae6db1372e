import { Schema, type InferSchemaType, type Types } from 'mongoose';

export const CASHU_WALLET_COLLECTION = 'cashu_wallets';

/** nctool's `cashu_wallets`: one wallet per user and mint. */
export const cashuWalletSchema = new Schema(
  {
    npub: { type: String, required: true, trim: true, match: [/^npub1[a-z0-9]{58,63}$/, 'Invalid NPUB format'] },
    mint_url: { type: String, required: true, trim: true },
    p2pk_pubkey: { type: String, trim: true },
    p2pk_privkey: { type: String, trim: true },
    wallet_config: {
      unit: { type: String, default: 'sat' },
      created_via: { type: String, enum: ['api', 'manual', 'migration'], default: 'api' },
    },
  },
  { timestamps: true, collection: CASHU_WALLET_COLLECTION },
);

cashuWalletSchema.index({ npub: 1, mint_url: 1 }, { unique: true });

export type CashuWallet = InferSchemaType<typeof cashuWalletSchema> & { _id: Types.ObjectId };
