import { describe, expect, it } from '@jest/globals';
import mongoose from 'mongoose';
import { cashuModels } from '@nctool/cashu-models';
import { sampleNpub, sampleTokens, sampleWalletId } from '@nctool/cashu-models/sample-data';

const { CashuToken } = cashuModels(mongoose.createConnection());

describe('cashu models', () => {
  const valid = () => ({
    npub: sampleNpub(1),
    wallet_id: sampleWalletId(1, 0),
    proofs: [
      { id: '009a1f293253e41e', amount: 2, secret: 's1', C: 'c1' },
      { id: '009a1f293253e41e', amount: 8, secret: 's2', C: 'c2' },
    ],
    mint_url: 'https://testnut.cashu.space',
    transaction_type: 'melted',
    transaction_id: 'tx1',
    metadata: { source: 'lightning' },
  });

  it('accepts a valid token and derives total_amount from the proofs', async () => {
    const token = new CashuToken(valid());
    await expect(token.validate()).resolves.toBeUndefined();
    expect(token.total_amount).toBe(10);
    expect(token.status).toBe('unspent');
  });

  it.each([
    [{ npub: 'npub-bad' }, /Invalid NPUB format/],
    [{ status: 'lost' }, /is not a valid enum value/],
    [{ transaction_type: 'stolen' }, /is not a valid enum value/],
    [{ proofs: [] }, /at least one proof/],
    [{ metadata: {} }, /source field/],
    [{ mint_url: 'not a url' }, /Invalid mint URL/],
  ])('rejects %p', async (patch, message) => {
    await expect(new CashuToken({ ...valid(), ...patch }).validate()).rejects.toThrow(message);
  });

  it('declares nctool indexes, transaction_id unique', () => {
    const indexes = CashuToken.schema.indexes();
    expect(indexes).toContainEqual([{ transaction_id: 1 }, expect.objectContaining({ unique: true })]);
    expect(indexes.map(([keys]) => Object.keys(keys).join('+'))).toEqual(
      expect.arrayContaining(['npub+status', 'npub+transaction_type', 'wallet_id+status', 'mint_url+status', 'proofs.secret']),
    );
  });

  it('sample data is deterministic, valid-shaped, and has the requested share of buggy tokens', () => {
    const a = [...sampleTokens({ tokens: 2000, seed: 5 })];
    const b = [...sampleTokens({ tokens: 2000, seed: 5 })];
    expect(a).toEqual(b);
    const buggy = a.filter((t) => t.transaction_type === 'melted' && t.status === 'unspent').length;
    expect(buggy / a.length).toBeGreaterThan(0.07);
    expect(buggy / a.length).toBeLessThan(0.13);
    for (const t of a.slice(0, 50)) {
      const proofs = t.proofs as Array<{ amount: number }>;
      expect(proofs.reduce((s, p) => s + p.amount, 0)).toBe(t.total_amount);
    }
  });
});
