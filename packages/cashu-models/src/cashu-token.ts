import { Schema, type InferSchemaType, type Types } from 'mongoose';

export const TOKEN_STATUSES = ['unspent', 'spent', 'pending', 'failed'] as const;
export const TokenStatus = { unspent: 'unspent', spent: 'spent', pending: 'pending', failed: 'failed' } as const;
export type TokenStatus = (typeof TokenStatus)[keyof typeof TokenStatus];

export const TRANSACTION_TYPES = ['received', 'sent', 'minted', 'melted', 'change'] as const;
export const TransactionType = { received: 'received', sent: 'sent', minted: 'minted', melted: 'melted', change: 'change' } as const;
export type TransactionType = (typeof TransactionType)[keyof typeof TransactionType];

export const CASHU_TOKEN_COLLECTION = 'cashu_tokens';
const NPUB = /^npub1[a-z0-9]{58,63}$/;

/** One Cashu proof (NUT-00). */
export interface Proof {
  id: string;
  amount: number;
  secret: string;
  C: string;
  witness?: string;
  dleq?: unknown;
}

const proofSchema = new Schema<Proof>(
  {
    id: { type: String, required: true },
    amount: { type: Number, required: true, min: [1, 'Proof amount must be positive'] },
    secret: { type: String, required: true },
    C: { type: String, required: true },
    witness: { type: String },
    dleq: { type: Schema.Types.Mixed },
  },
  { _id: false },
);

/** nctool's `cashu_tokens`: the proofs of one transaction of one user's wallet. */
export const cashuTokenSchema = new Schema(
  {
    npub: { type: String, required: [true, 'NPUB is required'], trim: true, match: [NPUB, 'Invalid NPUB format'] },
    wallet_id: { type: Schema.Types.ObjectId, ref: 'CashuWallet', required: [true, 'Wallet ID is required'] },
    proofs: {
      type: [proofSchema],
      required: true,
      validate: {
        // Empty proofs only for pending transactions.
        validator(this: { status?: string }, proofs: Proof[]) {
          return Array.isArray(proofs) && (proofs.length > 0 || this.status === 'pending');
        },
        message: 'Proofs array must contain at least one proof (unless status is pending)',
      },
    },
    mint_url: {
      type: String,
      required: [true, 'Mint URL is required'],
      trim: true,
      validate: { validator: (v: string) => URL.canParse(v), message: 'Invalid mint URL format' },
    },
    total_amount: {
      type: Number,
      min: [0, 'Total amount cannot be negative'],
      validate: {
        validator(this: { proofs?: Proof[] }, total: number | null | undefined) {
          if (total === undefined || total === null) return true;
          return total === (this.proofs ?? []).reduce((sum, p) => sum + p.amount, 0);
        },
        message: 'Total amount must match sum of proof amounts',
      },
    },
    status: { type: String, enum: TOKEN_STATUSES, default: TokenStatus.unspent, required: true },
    transaction_type: { type: String, enum: TRANSACTION_TYPES, required: [true, 'Transaction type is required'] },
    transaction_id: { type: String, required: [true, 'Transaction ID is required'], trim: true },
    metadata: {
      type: Schema.Types.Mixed,
      default: () => ({}),
      validate: {
        validator: (v: unknown) => typeof v === 'object' && v !== null && 'source' in v && !!(v as { source?: unknown }).source,
        message: 'Metadata must be an object with a source field',
      },
    },
    spent_at: { type: Date, default: null },
  },
  { timestamps: true, collection: CASHU_TOKEN_COLLECTION },
);

cashuTokenSchema.index({ npub: 1, status: 1 });
cashuTokenSchema.index({ npub: 1, transaction_type: 1 });
cashuTokenSchema.index({ npub: 1, createdAt: -1 });
cashuTokenSchema.index({ wallet_id: 1, status: 1 });
cashuTokenSchema.index({ transaction_id: 1 }, { unique: true });
cashuTokenSchema.index({ mint_url: 1, status: 1 });
cashuTokenSchema.index({ 'proofs.secret': 1 });

cashuTokenSchema.pre('validate', function () {
  // total_amount is derived from the proofs.
  this.total_amount = (this.proofs ?? []).reduce((sum: number, p: Proof) => sum + p.amount, 0);
});

cashuTokenSchema.pre('save', function () {
  if (this.status === TokenStatus.spent && !this.spent_at) this.spent_at = new Date();
});

export type CashuToken = InferSchemaType<typeof cashuTokenSchema> & { _id: Types.ObjectId };
