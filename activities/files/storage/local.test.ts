import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { BlobStorePermanentError } from './blob-store.ts';
import { blobStoreContract } from './blob-store-contract.ts';
import { openBlobStore } from './config.ts';
import type { LocalBlobStore } from './local.ts';

describe('local storage driver', () => {
  let root: string;
  let store: LocalBlobStore;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'switchboard-local-store-'));
    store = (await openBlobStore({ driver: 'local', root }, {})) as LocalBlobStore;
  });
  after(() => rm(root, { recursive: true, force: true }));

  blobStoreContract({
    store: () => store,
    // The put writes into the partial directory until its rename.
    bytesReceivedDuringPut: async () => {
      const dir = path.join(root, '.partial');
      let total = 0;
      for (const name of await readdir(dir).catch(() => [] as string[]))
        total += (await stat(path.join(dir, name))).size;
      return total;
    },
  });

  it('refuses keys that could leave the root: "..", absolute, backslashes, NUL, dot segments', async () => {
    for (const key of [
      '../escape',
      'a/../../b',
      '/etc/passwd',
      'a\\b',
      'a\0b',
      '',
      'a//b',
      './a',
      '.partial/x',
      'a/.hidden',
    ]) {
      await assert.rejects(
        store.put(key, Readable.from([Buffer.from('x')])),
        BlobStorePermanentError,
        JSON.stringify(key),
      );
      await assert.rejects(store.get(key), BlobStorePermanentError, JSON.stringify(key));
      await assert.rejects(store.size(key), BlobStorePermanentError, JSON.stringify(key));
    }
    // Nothing was written anywhere near the root.
    assert.deepEqual(await readdir(path.dirname(root)).then((names) => names.includes('escape')), false);
  });

  it('leaves no partial file behind after a failed put', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('upload aborted'));
      },
    });
    await assert.rejects(store.put('quarantine/failed', failing), /upload aborted/);
    assert.deepEqual(await readdir(path.join(root, '.partial')), []);
  });

  it('a range past the end of the file is a permanent error', async () => {
    await store.put('short', Readable.from([Buffer.from('abc')]));
    await assert.rejects(store.get('short', { start: 3, end: 10 }), BlobStorePermanentError);
    await assert.rejects(store.get('short', { start: 2, end: 1 }), BlobStorePermanentError);
  });
});
