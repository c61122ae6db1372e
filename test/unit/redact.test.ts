import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import winston from 'winston';
import { createLogger, redactSecrets, redactValue } from '@mongrate/core';

describe('credential redaction', () => {
  it('removes user and password from every connection string in a text', () => {
    const text = 'failed: mongodb://admin:hunter2@db1:27017,db2/prod?authSource=admin and mongodb+srv://u:p4ss@cluster.example.net/x';
    const out = redactSecrets(text);
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('p4ss');
    expect(out).toContain('mongodb://<credentials>@db1:27017,db2/prod');
    expect(redactSecrets('no uri here')).toBe('no uri here');
  });

  it('walks nested values and errors', () => {
    const error = new Error('connect mongodb://a:b@h/x failed');
    const value = redactValue({ list: ['mongodb://a:secret1@h'], nested: { e: error } }) as { list: string[]; nested: { e: Error } };
    expect(JSON.stringify(value.list)).not.toContain('secret1');
    expect(value.nested.e.message).not.toContain(':b@');
  });

  it('the logger redacts messages and fields before any transport sees them', () => {
    let written = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, callback) {
        written += chunk.toString();
        callback();
      },
    });
    const logger = createLogger({ level: 'debug', format: 'json', transports: [new winston.transports.Stream({ stream: sink })] });
    logger.info('connecting to mongodb://root:TopSecret@db/x', { uri: 'mongodb://root:TopSecret@db/x', nested: { again: 'mongodb://root:TopSecret@db' } });
    expect(written).toContain('connecting to mongodb://<credentials>@db/x');
    expect(written).not.toContain('TopSecret');
  });
});
