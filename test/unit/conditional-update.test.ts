import { describe, expect, it } from '@jest/globals';
import { BSONSymbol, Binary, Decimal128, Double, Int32, Long, ObjectId, type Document } from 'mongodb';
import { ConditionalUpdates, PipelineSupport, pipelineUpdateRefused } from '../../packages/core/src/toolkit/conditional-update.js';
import { exactExpression } from '../../packages/core/src/toolkit/backup-document.js';

const pipelineOf = (op: unknown): unknown => (op as { updateOne: { update: unknown } }).updateOne.update;

describe('ConditionalUpdates', () => {
  it('finds the document by _id alone and sets or removes each field only where it holds exactly the values', () => {
    const when = exactExpression({ a: 1 }, ['b']);
    expect(new ConditionalUpdates().update('id', { a: 1 }, ['b'], { s: '$notAPath' }, ['gone'])).toEqual({
      updateOne: {
        filter: { _id: 'id' },
        update: [{ $set: { s: { $cond: [when, { $literal: '$notAPath' }, '$s'] }, gone: { $cond: [when, '$$REMOVE', '$gone'] } } }],
      },
    });
  });

  it('documents with the same values and writes share one pipeline', () => {
    const updates = new ConditionalUpdates();
    const at = new Date(5);
    const a = updates.update(1, { status: 'unspent', n: new Int32(1) }, ['x'], { status: 'spent', at });
    const b = updates.update(2, { status: 'unspent', n: new Int32(1) }, ['x'], { status: 'spent', at: new Date(5) });
    expect(pipelineOf(a)).toBe(pipelineOf(b));
  });

  // Values the exact comparison tells apart never share a pipeline (each pair would otherwise write one document on
  // the other's condition).
  it.each<[string, Document, Document]>([
    ['Decimal 1.0 and 1.00', { v: Decimal128.fromString('1.0') }, { v: Decimal128.fromString('1.00') }],
    ['Int32 5 and Double 5', { v: new Int32(5) }, { v: new Double(5) }],
    ['Double 0 and -0', { v: new Double(0) }, { v: new Double(-0) }],
    ['Long 5 and Int32 5', { v: Long.fromNumber(5) }, { v: new Int32(5) }],
    ['a string and its symbol', { v: 'a' }, { v: new BSONSymbol('a') }],
    ['two dates', { v: new Date(1) }, { v: new Date(2) }],
    ['null and absent-as-undefined', { v: null }, { v: undefined }],
    ['two ObjectIds', { v: new ObjectId('0'.repeat(24)) }, { v: new ObjectId('1'.repeat(24)) }],
    ['an object and another', { v: { a: 1, b: 2 } }, { v: { b: 2, a: 1 } }],
    ['a field name and a value that look alike', { 'a=s"x";': 'y' }, { a: 'x', '"': 'y' }],
    // An embedded document that spells Extended JSON is stored as a document, not as the value it spells.
    ['an ObjectId and a document spelling it', { v: new ObjectId('1'.repeat(24)) }, { v: { $oid: '1'.repeat(24) } }],
    ['a Binary and a document spelling it', { v: new Binary(Buffer.from('ab')) }, { v: { $binary: { base64: 'YWI=', subType: '00' } } }],
    ['an Int32 deep inside and a document spelling it', { v: { a: [new Int32(1)] } }, { v: { a: [{ $numberInt: '1' }] } }],
    ['a regular expression and an empty document', { v: /x/i }, { v: {} }],
    ['bytes and a document of numbered fields', { v: new Uint8Array([7]) }, { v: { '0': 7 } }],
  ])('%s get their own pipelines', (_label, one, other) => {
    const updates = new ConditionalUpdates();
    expect(pipelineOf(updates.update(1, one, [], { s: 1 }))).not.toBe(pipelineOf(updates.update(2, other, [], { s: 1 })));
  });

  it('a different missing field or a different write gets its own pipeline', () => {
    const updates = new ConditionalUpdates();
    const base = pipelineOf(updates.update(1, { a: 1 }, ['m'], { s: 1 }));
    expect(pipelineOf(updates.update(2, { a: 1 }, ['n'], { s: 1 }))).not.toBe(base);
    expect(pipelineOf(updates.update(3, { a: 1 }, ['m'], { s: 2 }))).not.toBe(base);
    expect(pipelineOf(updates.update(4, { a: 1 }, ['m'], { s: 1 }, ['u']))).not.toBe(base);
  });
});

describe('pipelineUpdateRefused: only a refusal of update pipelines as such sends a batch to the other write', () => {
  const bulkError = (codes: number[]) => ({ code: codes[0], writeErrors: codes.map((code, index) => ({ code, index })) });
  it.each([
    ['a command refused as unsupported', { code: 115 }, 3, true],
    ['a command failing to parse the pipeline', { code: 9 }, 3, true],
    ['every update refused', bulkError([9, 9, 9]), 3, true],
    // The bulk error carries its first write error's code: the others were written.
    ['one update of three failing with a parse code', bulkError([9]), 3, false],
    ['every update failing for another reason', bulkError([11000, 11000, 11000]), 3, false],
    ['another command error', { code: 6 }, 3, false],
    ['not a server error', new Error('boom'), 3, false],
  ])('%s: %s', (_label, error, operations, refused) => {
    expect(pipelineUpdateRefused(error, operations)).toBe(refused);
  });
});

describe('PipelineSupport: pipelines until the server refuses them, then the other write', () => {
  const refused = Object.assign(new Error('pipeline'), { code: 40324 });
  it('after a refusal it warns once, checks the lease, and writes the other way from then on', async () => {
    const warnings: string[] = [];
    let guards = 0;
    const support = new PipelineSupport((message) => warnings.push(message), () => guards++);
    let pipelineCalls = 0;
    const withPipeline = async () => {
      pipelineCalls++;
      throw refused;
    };
    expect(await support.write(3, withPipeline, async () => 'without')).toBe('without');
    expect(await support.write(3, withPipeline, async () => 'again')).toBe('again');
    expect({ pipelineCalls, warnings: warnings.length, guards }).toEqual({ pipelineCalls: 1, warnings: 1, guards: 1 });
  });

  it('any other failure is thrown and pipelines stay in use', async () => {
    const support = new PipelineSupport(() => undefined, () => undefined);
    const boom = Object.assign(new Error('duplicate'), { code: 11000 });
    await expect(support.write(1, () => Promise.reject(boom), async () => 'without')).rejects.toBe(boom);
    expect(await support.write(1, async () => 'with', async () => 'without')).toBe('with');
  });
});
