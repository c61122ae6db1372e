import { createHash } from 'node:crypto';
import { ObjectId, type Db } from 'mongodb';
import { CASHU_TOKEN_COLLECTION, TokenStatus, TransactionType, type Proof } from './cashu-token.js';
import { CASHU_WALLET_COLLECTION } from './cashu-wallet.js';

export interface SampleDataOptions {
  /** Tokens to write. */
  readonly tokens: number;
  /** Distinct users (npubs), each with one wallet per mint. Default: tokens / 50, at least 1. */
  readonly users?: number;
  /** Share of tokens that are melted but still `unspent` (the bug). Default 0.1. */
  readonly buggyShare?: number;
  /** Share of tokens that are melted and correctly `spent`. Default 0.05. */
  readonly correctMeltedShare?: number;
  /** Seed of the pseudo-random generator: the same seed gives the same data. Default 1. */
  readonly seed?: number;
  /** Documents per insert. Default 5000. */
  readonly insertBatch?: number;
  /** First transaction number, so that several seedings never collide. Default 0. */
  readonly offset?: number;
}

const MINTS = ['https://mint.minibits.cash/Bitcoin', 'https://testnut.cashu.space', 'https://legend.lnbits.com/cashu/api/v1/4gr9Xcmz3XEkUNwiBiQGoC'];
const OTHER_TYPES = [TransactionType.received, TransactionType.sent, TransactionType.minted, TransactionType.change] as const;
const OTHER_STATUSES = [TokenStatus.unspent, TokenStatus.unspent, TokenStatus.spent, TokenStatus.pending] as const;
const BASE_TIME = Date.UTC(2025, 0, 1);

/** mulberry32: small, fast, good enough for sample data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

/** A valid-looking npub (bech32 alphabet, 59 characters after `npub1`). */
export function sampleNpub(user: number, seed = 1): string {
  const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const digest = createHash('sha256').update(`npub-${seed}-${user}`).digest();
  let out = 'npub1';
  for (let i = 0; i < 59; i++) out += alphabet[(digest[i % 32] ?? 0) % 32 ^ (i % 3)];
  return out;
}

/** The wallet `_id` of a user at a mint: deterministic, so tokens can reference it. */
export function sampleWalletId(user: number, mint: number, seed = 1): ObjectId {
  return new ObjectId(hex(`wallet-${seed}-${user}-${mint}`, 24));
}

/** Proofs as Cashu splits an amount: powers of two. */
function proofsFor(amount: number, key: string): Proof[] {
  const proofs: Proof[] = [];
  for (let bit = 0; amount > 0; bit++, amount >>= 1) {
    if (amount & 1) proofs.push({ id: '009a1f293253e41e', amount: 1 << bit, secret: hex(`${key}-s-${bit}`, 64), C: `02${hex(`${key}-c-${bit}`, 64)}` });
  }
  return proofs;
}

/** nctool-shaped token documents (raw driver form), deterministic for a seed. */
export function* sampleTokens(options: SampleDataOptions): Generator<Record<string, unknown>> {
  const seed = options.seed ?? 1;
  const rand = random(seed);
  const users = Math.max(1, options.users ?? Math.floor(options.tokens / 50));
  const buggy = options.buggyShare ?? 0.1;
  const correct = options.correctMeltedShare ?? 0.05;
  const offset = options.offset ?? 0;
  for (let i = offset; i < offset + options.tokens; i++) {
    const user = Math.floor(rand() * users);
    const mint = user % MINTS.length;
    const roll = rand();
    const amount = 1 + Math.floor(rand() * 5000);
    const createdAt = new Date(BASE_TIME + i * 60_000);
    const melted = roll < buggy + correct;
    const status = melted ? (roll < buggy ? TokenStatus.unspent : TokenStatus.spent) : OTHER_STATUSES[Math.floor(rand() * OTHER_STATUSES.length)];
    const type = melted ? TransactionType.melted : OTHER_TYPES[Math.floor(rand() * OTHER_TYPES.length)];
    const proofs = proofsFor(amount, `${seed}-${i}`);
    yield {
      _id: new ObjectId(hex(`token-${seed}-${i}`, 24)),
      npub: sampleNpub(user, seed),
      wallet_id: sampleWalletId(user, mint, seed),
      proofs,
      mint_url: MINTS[mint],
      total_amount: amount,
      status,
      transaction_type: type,
      transaction_id: `tx_${seed}_${i}`,
      metadata: { source: melted ? 'lightning' : 'cashu', ...(melted ? { quote_id: hex(`quote-${i}`, 16) } : {}) },
      spent_at: status === TokenStatus.spent ? new Date(createdAt.getTime() + 30_000) : null,
      createdAt,
      updatedAt: createdAt,
    };
  }
}

/** Writes sample wallets and tokens with the raw driver (fast, no validation), in batches. */
export async function seedSampleData(db: Db, options: SampleDataOptions): Promise<{ tokens: number; wallets: number }> {
  const seed = options.seed ?? 1;
  const users = Math.max(1, options.users ?? Math.floor(options.tokens / 50));
  const wallets = Array.from({ length: users }, (_, user) => {
    const mint = user % MINTS.length;
    return {
      _id: sampleWalletId(user, mint, seed),
      npub: sampleNpub(user, seed),
      mint_url: MINTS[mint],
      wallet_config: { unit: 'sat', created_via: 'api' },
      createdAt: new Date(BASE_TIME),
      updatedAt: new Date(BASE_TIME),
    };
  });
  for (let i = 0; i < wallets.length; i += 5000) {
    await db.collection(CASHU_WALLET_COLLECTION).insertMany(wallets.slice(i, i + 5000), { ordered: false }).catch((e: unknown) => {
      if (!(e instanceof Error && 'code' in e && e.code === 11000)) throw e; // wallets shared by several seedings
    });
  }
  const batchSize = options.insertBatch ?? 5000;
  let batch: Record<string, unknown>[] = [];
  let written = 0;
  for (const token of sampleTokens(options)) {
    batch.push(token);
    if (batch.length === batchSize) {
      await db.collection(CASHU_TOKEN_COLLECTION).insertMany(batch, { ordered: false });
      written += batch.length;
      batch = [];
    }
  }
  if (batch.length > 0) {
    await db.collection(CASHU_TOKEN_COLLECTION).insertMany(batch, { ordered: false });
    written += batch.length;
  }
  return { tokens: written, wallets: wallets.length };
}
