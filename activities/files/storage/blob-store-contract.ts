// What every BlobStore driver must do, as one mocha suite each driver's test file runs against its real backend.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlobNotFoundError, type BlobStore } from './blob-store.ts';

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Deterministic bytes for position i, so a large body can be generated and checked without keeping it. */
function patternChunk(offset: number, length: number): Buffer {
  const chunk = Buffer.alloc(length);
  for (let i = 0; i < length; i++) chunk[i] = ((offset + i) * 31 + ((offset + i) >> 11)) & 0xff;
  return chunk;
}

/**
 * A body of `total` bytes that stops after `pauseAt` bytes until `release()` is called: while it waits, whatever
 * the backend has received is what the driver streamed, not something it buffered until the end.
 */
function gatedBody(total: number, pauseAt: number) {
  const chunkSize = 64 * 1024;
  let offset = 0;
  let released = false;
  let wake: (() => void) | undefined;
  const hash = createHash('sha256');
  const body = new Readable({
    highWaterMark: chunkSize,
    async read() {
      if (offset >= total) return void this.push(null);
      if (offset >= pauseAt && !released) await new Promise<void>((resolve) => (wake = resolve));
      const chunk = patternChunk(offset, Math.min(chunkSize, total - offset));
      offset += chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return {
    body,
    produced: () => offset,
    release() {
      released = true;
      wake?.();
    },
    digest: () => hash.digest('hex'),
  };
}

export type ContractOptions = {
  store: () => BlobStore;
  /** Bytes of `key` the backend holds while a put is still in flight (partial file, uploaded parts, staged blocks). */
  bytesReceivedDuringPut: (key: string) => Promise<number>;
};

export function blobStoreContract({ store, bytesReceivedDuringPut }: ContractOptions): void {
  // Each test run uses keys of its own, so reruns against long-lived servers never see old objects.
  const run = `contract-${randomUUID()}`;
  const key = (name: string) => `${run}/${name}`;
  // The test servers live on between runs: leave nothing behind (and exercise list + delete once more).
  after(async () => {
    for await (const item of store().list(`${run}/`)) await store().delete(item.key);
  });

  it('round-trips bytes: put reports the length, get returns them, size agrees', async () => {
    const bytes = randomBytes(100_000);
    const { bytes: written } = await store().put(key('a'), Readable.from([bytes.subarray(0, 7), bytes.subarray(7)]));
    assert.equal(written, bytes.length);
    assert.deepEqual(await readAll(await store().get(key('a'))), bytes);
    assert.equal(await store().size(key('a')), bytes.length);
  });

  it('stores an empty body', async () => {
    assert.deepEqual(await store().put(key('empty'), Readable.from([])), { bytes: 0 });
    assert.equal(await store().size(key('empty')), 0);
    assert.equal((await readAll(await store().get(key('empty')))).length, 0);
  });

  it('overwrites an existing key', async () => {
    await store().put(key('over'), Readable.from([Buffer.from('first version, longer')]));
    await store().put(key('over'), Readable.from([Buffer.from('second')]));
    assert.equal((await readAll(await store().get(key('over')))).toString(), 'second');
    assert.equal(await store().size(key('over')), 6);
  });

  it('reads an inclusive byte range', async () => {
    const bytes = Buffer.from('0123456789abcdefghij');
    await store().put(key('range'), Readable.from([bytes]));
    assert.equal((await readAll(await store().get(key('range'), { start: 3, end: 7 }))).toString(), '34567');
    assert.equal((await readAll(await store().get(key('range'), { start: 0, end: 0 }))).toString(), '0');
    assert.equal((await readAll(await store().get(key('range'), { start: 15, end: 19 }))).toString(), 'fghij');
  });

  it('reports a missing key: get throws BlobNotFoundError, size is undefined', async () => {
    await assert.rejects(store().get(key('missing')), BlobNotFoundError);
    await assert.rejects(store().get(key('missing'), { start: 0, end: 9 }), BlobNotFoundError);
    assert.equal(await store().size(key('missing')), undefined);
  });

  it('deletes, and deleting a missing key succeeds', async () => {
    await store().put(key('gone'), Readable.from([Buffer.from('x')]));
    await store().delete(key('gone'));
    assert.equal(await store().size(key('gone')), undefined);
    await assert.rejects(store().get(key('gone')), BlobNotFoundError);
    await store().delete(key('gone'));
    await store().delete(key('never-there'));
  });

  it('copies on the server; the source stays, and a missing source is BlobNotFoundError', async () => {
    const bytes = randomBytes(10_000);
    await store().put(key('copy-from'), Readable.from([bytes]));
    await store().copy(key('copy-from'), key('copied/to'));
    assert.deepEqual(await readAll(await store().get(key('copied/to'))), bytes);
    assert.deepEqual(await readAll(await store().get(key('copy-from'))), bytes);
    await assert.rejects(store().copy(key('no-such-source'), key('copied/none')), BlobNotFoundError);
    assert.equal(await store().size(key('copied/none')), undefined);
  });

  it('lists the keys under a prefix, at any depth, with size and last-modified time', async () => {
    const before = Date.now() - 5 * 60_000;
    await store().put(key('list/q/one'), Readable.from([Buffer.from('1')]));
    await store().put(key('list/q/deep/two'), Readable.from([Buffer.from('22')]));
    await store().put(key('list/qq'), Readable.from([Buffer.from('333')]));
    await store().put(key('list/other'), Readable.from([Buffer.from('4444')]));
    const listed = async (prefix: string) => {
      const found: Array<{ key: string; size: number; lastModified: Date }> = [];
      for await (const item of store().list(prefix)) found.push(item);
      return found.sort((a, b) => a.key.localeCompare(b.key));
    };
    const underQ = await listed(key('list/q/'));
    assert.deepEqual(
      underQ.map(({ key: k, size }) => [k, size]),
      [
        [key('list/q/deep/two'), 2],
        [key('list/q/one'), 1],
      ],
    );
    for (const item of underQ) {
      assert.ok(item.lastModified instanceof Date);
      assert.ok(item.lastModified.getTime() > before && item.lastModified.getTime() < Date.now() + 5 * 60_000);
    }
    // A prefix is a string prefix, not a directory: "list/q" also matches "list/qq".
    assert.deepEqual(
      (await listed(key('list/q'))).map((item) => item.key),
      [key('list/q/deep/two'), key('list/q/one'), key('list/qq')],
    );
    assert.deepEqual(await listed(key('list/nothing-here/')), []);
  });

  it('streams a large body: the backend receives bytes before the body has ended', async function () {
    this.timeout(60_000);
    const total = 12 * 1024 * 1024;
    const gate = gatedBody(total, 11 * 1024 * 1024);
    const put = store().put(key('large'), gate.body);
    put.catch(() => {}); // observed below; keeps an early failure from being unhandled while we poll
    // While the body is held back, the backend must already hold part of it (at least one 5 MiB part).
    let received = 0;
    for (let i = 0; i < 200 && received < 4 * 1024 * 1024; i++) {
      await sleep(50);
      received = await bytesReceivedDuringPut(key('large'));
    }
    assert.ok(received >= 4 * 1024 * 1024, `the backend had ${received} bytes of a held-back 12 MiB body`);
    assert.ok(gate.produced() < total, 'the body had not ended yet');
    gate.release();
    assert.deepEqual(await put, { bytes: total });
    const stored = createHash('sha256');
    for await (const chunk of await store().get(key('large'))) stored.update(chunk as Buffer);
    assert.equal(stored.digest('hex'), gate.digest());
    assert.deepEqual(
      await readAll(await store().get(key('large'), { start: 5 * 1024 * 1024 - 3, end: 5 * 1024 * 1024 + 4 })),
      patternChunk(5 * 1024 * 1024 - 3, 8),
    );
  });

  it('a body that fails midway leaves no object', async () => {
    let sent = 0;
    const failing = new Readable({
      read() {
        if (sent >= 6 * 1024 * 1024) return void this.destroy(new Error('client went away'));
        sent += 256 * 1024;
        this.push(randomBytes(256 * 1024));
      },
    });
    // The body's own error comes back unchanged: the upload broke, not the store.
    await assert.rejects(store().put(key('broken'), failing), /client went away/);
    assert.equal(await store().size(key('broken')), undefined);
    const listed: string[] = [];
    for await (const item of store().list(key('broken'))) listed.push(item.key);
    assert.deepEqual(listed, []);
  });
}
