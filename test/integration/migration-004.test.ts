import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Decimal128, ObjectId, type Collection, type Document } from 'mongodb';
import { MigrationAlreadyAppliedError, MigrationNotAppliedError, type Migrator } from '@mongrate/core';
import { CASHU_TOKEN_COLLECTION } from '@nctool/cashu-models';
import { seedSampleData, sampleNpub, sampleWalletId } from '@nctool/cashu-models/sample-data';
import { collectionHash } from '../support/collection-hash.js';
import { openTestDatabase, serverUri, type TestDatabase } from '../support/database.js';
import { NCTOOL_MIGRATIONS, testMigrator } from '../support/migrator.js';

import { killAtBatch } from '../support/kill-at-batch.js';

const ID = 'nctool/004_fix_melted_token_status';
const isTarget = (d: Document) => d.transaction_type === 'melted' && d.status === 'unspent';

describe('migration 004: fix melted token status', () => {
  let t: TestDatabase;
  let tokens: Collection<Document>;
  beforeEach(async () => {
    t = await openTestDatabase(import.meta.filename);
    tokens = t.db.collection(CASHU_TOKEN_COLLECTION);
  });
  afterEach(async () => {
    await t.drop();
  });

  // A short lease, so that reruns after a kill -9 wait seconds, not a minute.
  const LEASE_MS = 5000;
  const migrator = (batchSize = 100): Migrator => testMigrator(t, NCTOOL_MIGRATIONS, { batchSize, leaseMs: LEASE_MS, lockPollMs: 100 });
  const record = () => t.db.collection('migrations').findOne({ _id: ID as never });
  const backups = () => t.db.collection('migration_backups').countDocuments({ migration: ID });

  /** Edge cases on top of the generated set. */
  async function seedEdgeCases(): Promise<void> {
    const base = { wallet_id: sampleWalletId(0, 0), mint_url: 'https://testnut.cashu.space', metadata: { source: 'lightning' }, spent_at: null };
    await tokens.insertMany([
      // Empty proofs and zero amount.
      { ...base, _id: new ObjectId(), npub: sampleNpub(0), proofs: [], total_amount: 0, status: 'unspent', transaction_type: 'melted', transaction_id: 'edge_empty', createdAt: new Date('2024-01-01') },
      // Fails today's schema (bad npub, no metadata.source, total mismatch): must still migrate.
      { _id: new ObjectId(), npub: 'not-an-npub', wallet_id: sampleWalletId(1, 1), proofs: [{ id: 'x', amount: 2, secret: 's', C: 'c' }], mint_url: 'nope', total_amount: 7, status: 'unspent', transaction_type: 'melted', transaction_id: 'edge_invalid', metadata: {}, createdAt: new Date('2024-01-02') },
      // No spent_at field at all: restore must remove it again.
      { _id: new ObjectId(), npub: sampleNpub(2), wallet_id: sampleWalletId(2, 2), proofs: [{ id: 'x', amount: 4, secret: 's2', C: 'c2' }], mint_url: base.mint_url, total_amount: 4, status: 'unspent', transaction_type: 'melted', transaction_id: 'edge_no_spent_at', metadata: { source: 'lightning' }, createdAt: new Date('2024-01-03') },
      // A correct melted token with its own spent_at: untouched.
      { ...base, _id: new ObjectId(), npub: sampleNpub(3), proofs: [{ id: 'x', amount: 8, secret: 's3', C: 'c3' }], total_amount: 8, status: 'spent', transaction_type: 'melted', transaction_id: 'edge_correct', spent_at: new Date('2024-02-02'), createdAt: new Date('2024-01-04') },
    ]);
  }

  it('preview figures match a brute-force count, and preview writes nothing', async () => {
    await seedSampleData(t.db, { tokens: 3000, users: 40, seed: 7 });
    await seedEdgeCases();
    const all = await tokens.find().toArray();
    const targets = all.filter(isTarget);
    const perUser = new Map<string, { tokens: number; sats: number }>();
    for (const d of targets) {
      const u = perUser.get(d.npub) ?? { tokens: 0, sats: 0 };
      perUser.set(d.npub, { tokens: u.tokens + 1, sats: u.sats + (d.total_amount ?? 0) });
    }
    const expectedTop = [...perUser.entries()]
      .map(([npub, v]) => ({ npub, ...v }))
      .sort((a, b) => b.sats - a.sats || (a.npub < b.npub ? -1 : 1))
      .slice(0, 5);
    const hashBefore = await collectionHash(tokens);
    const [result] = await migrator().preview({ top: 5, samples: 3 });
    const data = result?.report?.data as Record<string, unknown>;
    expect(result?.id).toBe(ID);
    expect(data.meltedTotal).toBe(all.filter((d) => d.transaction_type === 'melted').length);
    expect(data.targets).toBe(targets.length);
    expect(data.sats).toBe(targets.reduce((s, d) => s + (d.total_amount ?? 0), 0));
    expect(data.users).toBe(perUser.size);
    expect(data.topUsers).toEqual(expectedTop);
    const oldest = [...targets].sort((a, b) => a.createdAt - b.createdAt).slice(0, 3);
    expect((data.samples as Array<{ transaction_id: string }>).map((s) => s.transaction_id)).toEqual(oldest.map((d) => d.transaction_id));
    expect(result?.report?.estimate?.seconds).toBeGreaterThan(0);
    expect(result?.report?.estimate?.basis).toMatch(/timed read/);
    expect(await collectionHash(tokens)).toBe(hashBefore);
    expect(await t.db.collection('migrations').countDocuments()).toBe(0);
  });

  it("preview's estimate uses earlier runs at the same batch size only: another batch size goes at another speed", async () => {
    await seedSampleData(t.db, { tokens: 600, users: 10, seed: 5 });
    const small = migrator(10);
    await small.up();
    expect((await small.history({ limit: 1 }))[0]).toMatchObject({ direction: 'up', outcome: 'applied', batchSize: 10 });
    await small.down();
    const [same] = await migrator(10).preview();
    expect(same?.report?.estimate?.basis).toMatch(/^median of 1 earlier run\(s\): \d+ docs\/s$/);
    const [other] = await migrator(1000).preview();
    expect(other?.report?.estimate?.basis).toMatch(/timed read/);
  });

  it('preview counts exactly what up migrates, a status array holding "unspent" and a Decimal128 amount included', async () => {
    const base = { wallet_id: sampleWalletId(1, 1), proofs: [{ id: 'x', amount: 1, secret: 's', C: 'c' }], mint_url: 'https://testnut.cashu.space', transaction_type: 'melted', metadata: {} };
    await tokens.insertMany([
      { ...base, _id: new ObjectId(), npub: sampleNpub(1), status: ['unspent'], total_amount: 5, transaction_id: 'odd_array_status', createdAt: new Date('2023-01-01') },
      { ...base, _id: new ObjectId(), npub: sampleNpub(2), status: 'unspent', total_amount: Decimal128.fromString('2.50'), transaction_id: 'odd_decimal_amount', createdAt: new Date('2023-01-02') },
      { ...base, _id: new ObjectId(), npub: sampleNpub(2), status: 'spent', total_amount: 9, transaction_id: 'odd_spent', createdAt: new Date('2023-01-03') },
    ] as Document[]);
    const [result] = await migrator().preview({ top: 5, samples: 5 });
    const data = result?.report?.data as Record<string, unknown>;
    expect(data).toMatchObject({ meltedTotal: 3, targets: 2, sats: 7.5, users: 2 });
    expect(result?.report?.tables?.[1]?.rows).toEqual([
      ['odd_array_status', 5, '2023-01-01T00:00:00.000Z'],
      ['odd_decimal_amount', 2.5, '2023-01-02T00:00:00.000Z'],
    ]);
    const up = await migrator().up();
    expect(up.migrations[0]?.counts).toMatchObject({ flipped: 2 });
  });

  it('up flips exactly the targets; a second up is a no-op; up 004 says already completed', async () => {
    await seedSampleData(t.db, { tokens: 2000, seed: 3 });
    await seedEdgeCases();
    const before = new Map((await tokens.find().toArray()).map((d) => [d._id.toHexString(), d]));
    const targetCount = [...before.values()].filter(isTarget).length;
    const indexesBefore = (await tokens.indexes()).map((i) => i.name).sort();
    const m = migrator(64);
    const result = await m.up();
    const counts = result.migrations[0]?.counts;
    expect(counts).toMatchObject({ flipped: targetCount, backedUp: targetCount, remaining: 0, skipped: 0 });
    // Binding CashuToken to the migration's connection builds no indexes on the app's collection.
    expect((await tokens.indexes()).map((i) => i.name).sort()).toEqual(indexesBefore);
    const rec = await record();
    for (const doc of await tokens.find().toArray()) {
      const old = before.get(doc._id.toHexString()) as Document;
      if (isTarget(old)) {
        expect(doc).toEqual({ ...old, status: 'spent', spent_at: rec?.runAt });
      } else {
        expect(doc).toEqual(old); // correct tokens untouched, spent_at unchanged
      }
    }
    const invalid = await tokens.findOne({ transaction_id: 'edge_invalid' });
    expect(invalid).toMatchObject({ status: 'spent', npub: 'not-an-npub', wallet_id: sampleWalletId(1, 1) });
    expect(await tokens.countDocuments({ transaction_type: 'melted', status: 'unspent' })).toBe(0);
    expect(await backups()).toBe(targetCount);
    expect(await m.up()).toMatchObject({ nothingToDo: true });
    const again = await m.up({ migration: '004' }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(MigrationAlreadyAppliedError);
    expect((again as Error).message).toContain(`Migration ${ID} is already completed`);
  });

  it('up → down restores the whole collection exactly; up → down → up equals a single up', async () => {
    await seedSampleData(t.db, { tokens: 2000, seed: 4 });
    await seedEdgeCases();
    const original = await collectionHash(tokens);
    const m = migrator(77);
    await m.up();
    const runAt1 = (await record())?.runAt as Date;
    const normalize = (runAt: Date) => (d: Document) => (d.spent_at instanceof Date && d.spent_at.getTime() === runAt.getTime() ? { ...d, spent_at: 'RUN' } : d);
    const afterSingleUp = await collectionHash(tokens, normalize(runAt1));
    const down = await m.down();
    expect(down.migrations[0]?.counts).toMatchObject({ conflicts: 0, alreadyRestored: 0 });
    expect(await collectionHash(tokens)).toBe(original);
    expect(await backups()).toBe(0);
    await m.up();
    const runAt2 = (await record())?.runAt as Date;
    expect(runAt2.getTime()).toBeGreaterThan(runAt1.getTime());
    expect(await collectionHash(tokens, normalize(runAt2))).toBe(afterSingleUp);
    expect((await m.history()).map((h) => `${h.direction}:${h.outcome}`)).toEqual(['up:applied', 'down:rolled_back', 'up:applied']);
  });

  it('down with no applied run gives a clear error and touches nothing', async () => {
    await seedSampleData(t.db, { tokens: 300, seed: 5 });
    const hash = await collectionHash(tokens);
    const m = migrator();
    await expect(m.down()).rejects.toBeInstanceOf(MigrationNotAppliedError);
    await expect(m.down({ migration: '004' })).rejects.toThrow(`Migration ${ID} is not applied, so there is nothing to roll back`);
    expect(await collectionHash(tokens)).toBe(hash);
  });

  it('app writes made during the flip and the restore are not lost; changed tokens are conflicts, not overwritten', async () => {
    await seedSampleData(t.db, { tokens: 3000, seed: 6 });
    const targets = await tokens.find({ transaction_type: 'melted', status: 'unspent' }, { projection: { _id: 1 } }).toArray();
    const m = migrator(20);
    let writing = true;
    // New targets are inserted during the first half of the flip only: later ones race the final check by design.
    let inserting = true;
    m.on('progress', (e) => {
      if (e.total && e.done >= e.total / 2) inserting = false;
    });
    const noted: ObjectId[] = [];
    const madePending: ObjectId[] = [];
    const inserted: string[] = [];
    const app = (async () => {
      for (let i = 0; writing; i++) {
        const target = targets[(i * 7) % targets.length]?._id as ObjectId;
        await tokens.updateOne({ _id: target }, { $set: { 'metadata.note': `note-${i}` } });
        noted.push(target);
        if (i % 10 === 0) {
          const other = targets[(i * 13 + 5) % targets.length]?._id as ObjectId;
          // A legitimate state change racing the migration: must survive whichever lands first.
          const res = await tokens.updateOne({ _id: other, status: 'unspent' }, { $set: { status: 'pending' } });
          if (res.modifiedCount) madePending.push(other);
        }
        if (i % 10 === 0 && inserting) {
          const tx = `app_tx_${i}`;
          await tokens.insertOne({ npub: sampleNpub(1), wallet_id: sampleWalletId(1, 1), proofs: [{ id: 'x', amount: 1, secret: tx, C: 'c' }], mint_url: 'https://testnut.cashu.space', total_amount: 1, status: 'unspent', transaction_type: 'melted', transaction_id: tx, metadata: { source: 'app' }, spent_at: null, createdAt: new Date() });
          inserted.push(tx);
        }
        await sleep(2);
      }
    })();
    await m.up();
    writing = false;
    await app;
    // Every note written during the run is still there.
    for (const [i, id] of noted.entries()) {
      const doc = await tokens.findOne({ _id: id });
      expect(doc?.metadata?.note).toBeDefined();
      if (i === noted.length - 1) expect(doc?.metadata?.note).toBe(`note-${i}`);
    }
    for (const id of madePending) expect((await tokens.findOne({ _id: id }))?.status).toBe('pending');
    // Targets inserted during the run were swept by a later pass.
    expect(await tokens.countDocuments({ transaction_id: { $in: inserted }, status: 'unspent' })).toBe(0);
    expect(inserted.length).toBeGreaterThan(0);

    // During restore, the app changes some flipped tokens: they are conflicts, left as the app wrote them.
    const flipped = await tokens.find({ status: 'spent', transaction_type: 'melted', 'metadata.source': { $ne: 'x' } }, { limit: 5, sort: { _id: -1 } }).toArray();
    const runAt = (await record())?.runAt as Date;
    const changed = flipped.filter((d) => d.spent_at?.getTime() === runAt.getTime()).slice(0, 3);
    for (const d of changed) await tokens.updateOne({ _id: d._id }, { $set: { status: 'failed' } });
    const down = await m.down();
    expect(down.migrations[0]?.counts?.conflicts).toBe(changed.length);
    for (const d of changed) expect((await tokens.findOne({ _id: d._id }))?.status).toBe('failed');
    expect(await t.db.collection('migration_backups').countDocuments({ conflict: { $exists: true } })).toBe(changed.length);
    for (const id of noted) expect((await tokens.findOne({ _id: id }))?.metadata?.note).toBeDefined();
  });

  describe('kill -9 during up and down, then a rerun, converges', () => {
    async function killAt(direction: 'up' | 'down', batches: number): Promise<void> {
      // The worker blocks right after that batch's checkpoint, so the kill lands exactly there.
      const { killed, result } = await killAtBatch({ uri: serverUri(), dbName: t.name, dir: NCTOOL_MIGRATIONS, batchSize: 25, direction, leaseMs: LEASE_MS, afterBatches: batches });
      if (!killed) throw new Error(`the ${direction} run ended before batch ${batches} (exit ${result.code}): ${result.stdout.trim().split('\n').at(-1)?.slice(0, 500)}`);
      expect(result.signal).toBe('SIGKILL');
    }

    it.each([[1], [7], [23]])('killed after %i batches', async (batches) => {
      await seedSampleData(t.db, { tokens: 8000, seed: 9 });
      const original = await collectionHash(tokens);
      const targetCount = await tokens.countDocuments({ transaction_type: 'melted', status: 'unspent' });
      await killAt('up', batches);
      expect((await record())?.status).toBe('applying');
      const m = migrator(25);
      const up = await m.up();
      expect(up.migrations[0]?.counts).toMatchObject({ flipped: targetCount, remaining: 0 });
      const runAt = (await record())?.runAt as Date;
      expect(await tokens.countDocuments({ transaction_type: 'melted', status: 'spent', spent_at: runAt })).toBe(targetCount);
      expect(await backups()).toBe(targetCount);

      await killAt('down', Math.max(1, batches - 1));
      expect((await record())?.status).toBe('reverting');
      const down = await m.down();
      expect(down.migrations[0]?.counts).toMatchObject({ conflicts: 0 });
      // After a resume the counts still add up: every backup counted once (issue 17).
      const c = down.migrations[0]?.counts ?? {};
      expect((c.restored ?? 0) + (c.alreadyRestored ?? 0) + (c.conflicts ?? 0)).toBe(targetCount);
      expect(await collectionHash(tokens)).toBe(original);
      expect(await backups()).toBe(0);
    });

    it('a partial up can be restored by down of the named migration', async () => {
      await seedSampleData(t.db, { tokens: 4000, seed: 10 });
      const original = await collectionHash(tokens);
      await killAt('up', 3);
      const down = await migrator(25).down({ migration: '004' });
      expect(down.migrations.map((x) => x.id)).toEqual([ID]);
      expect(await collectionHash(tokens)).toBe(original);
      expect((await record())?.status).toBe('rolled_back');
    });
  });
});
