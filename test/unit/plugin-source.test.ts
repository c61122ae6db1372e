import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { folderSource } from '@mongrate/core';

describe('folderSource of a built plugin', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'plugin-'));
    await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: '@acme/migrations', version: '2.1.0', mongrate: { namespace: 'acme' } }));
    await mkdir(path.join(root, 'dist'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('takes the namespace and version from the package whose dist/ holds the migrations', () => {
    expect(folderSource(path.join(root, 'dist'))).toEqual({ namespace: 'acme', directory: path.join(root, 'dist'), version: '2.1.0' });
  });

  it("ignores a parent package.json that is not a plugin's", async () => {
    await writeFile(path.join(root, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }));
    expect(folderSource(path.join(root, 'dist'))).toEqual({ namespace: 'dist', directory: path.join(root, 'dist') });
  });
});
