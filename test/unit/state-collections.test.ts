import { describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { STATE_COLLECTION_OPTIONS, stateCollection } from '../../packages/core/src/storage/state-collections.js';

describe('stateCollection', () => {
  it('reads from the primary at majority and writes majority/journaled, whatever the client prefers', () => {
    // No server is contacted: settings are resolved when the handle is made.
    const client = new MongoClient('mongodb://127.0.0.1:1/app?readPreference=secondary&w=1&readConcernLevel=local');
    const state = stateCollection(client.db(), 'migrations');
    expect(state.readPreference?.mode).toBe('primary');
    expect(state.readConcern?.level).toBe('majority');
    expect(state.writeConcern).toMatchObject({ w: 'majority', journal: true });
    const data = client.db().collection('cashu_tokens');
    expect(data.readPreference?.mode).toBe('secondary');
    expect(data.writeConcern?.w).toBe(1);
    expect(STATE_COLLECTION_OPTIONS.readPreference).toBe('primary');
  });
});
