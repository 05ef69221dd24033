import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KeyRing } from '../config.ts';
import {
  ciphertextRange,
  ciphertextSize,
  decryptStream,
  encryptStream,
  FileCryptoError,
  type FileKeyEnvelope,
  fileKeyContext,
  isFileKeyCurrent,
  newFileKey,
  openFileKey,
  plaintextSize,
  rewrapFileKey,
  SEGMENT_SIZE,
  TAG_BYTES,
} from './sealed-stream.ts';

const keyBytes: Record<string, Buffer> = { k1: randomBytes(32), k2: randomBytes(32) };
const ring = (active: string, ...ids: string[]): KeyRing => ({
  activeKeyId: active,
  keys: new Map(ids.map((id) => [id, keyBytes[id]!])),
});
const keys = ring('k1', 'k1', 'k2');
const context = fileKeyContext('org-1', 'att-1');
const S = SEGMENT_SIZE;
const STORED = S + TAG_BYTES;

/** Feeds `bytes` in uneven chunks, so segment boundaries never line up with write boundaries. */
function chunked(bytes: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, step = 1; at < bytes.length; at += step, step = (step * 7 + 3) % 40_000)
    chunks.push(bytes.subarray(at, at + step));
  return Readable.from(chunks, { objectMode: false });
}

const sink = (out: Buffer[]) =>
  new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });

async function collect(source: Readable, transform: Transform): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(source, transform, sink(out));
  return Buffer.concat(out);
}

async function seal(plain: Buffer, ctx = context) {
  const { dataKey, envelope } = newFileKey(keys, ctx);
  const stored = await collect(chunked(plain), encryptStream(dataKey, envelope, ctx));
  dataKey.fill(0);
  return { envelope, stored };
}

async function open(
  envelope: FileKeyEnvelope,
  stored: Buffer,
  plainSize: number,
  options: { ctx?: string; range?: { start: number; end: number }; ring?: KeyRing } = {},
) {
  const ctx = options.ctx ?? context;
  const dataKey = openFileKey(options.ring ?? keys, envelope, ctx);
  const stream = decryptStream(dataKey, envelope, ctx, { plainSize, range: options.range });
  dataKey.fill(0);
  return collect(chunked(stored), stream);
}

/** Decrypts, expecting failure; returns the error and the plaintext emitted before it. */
async function openFailing(envelope: FileKeyEnvelope, stored: Buffer, plainSize: number, ctx = context) {
  const dataKey = openFileKey(keys, envelope, ctx);
  const stream = decryptStream(dataKey, envelope, ctx, { plainSize });
  const emitted: Buffer[] = [];
  const error = await pipeline(chunked(stored), stream, sink(emitted)).then(
    () => assert.fail('decryption should have failed'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof FileCryptoError, `expected FileCryptoError, got ${String(error)}`);
  return { error, emitted: Buffer.concat(emitted) };
}

describe('sealed attachment streams', () => {
  for (const size of [0, 1, S - 1, S, S + 1, 5 * 1024 * 1024 + 3]) {
    it(`round-trips ${size} bytes, storing exactly ciphertextSize bytes that are not the plaintext`, async () => {
      const plain = randomBytes(size);
      const { envelope, stored } = await seal(plain);
      assert.equal(stored.length, ciphertextSize(size));
      assert.equal(plaintextSize(stored.length), size);
      if (size >= 16) assert.equal(stored.indexOf(plain.subarray(0, 16)), -1);
      assert.ok((await open(envelope, stored, size)).equals(plain));
    });
  }

  it('writes a single flagged empty segment for an empty file', async () => {
    const { stored } = await seal(Buffer.alloc(0));
    assert.equal(stored.length, TAG_BYTES);
  });

  it('uses a fresh data key and nonce prefix for every file', async () => {
    const plain = Buffer.alloc(100, 7);
    const a = await seal(plain);
    const b = await seal(plain);
    assert.notEqual(a.envelope.wrappedKey, b.envelope.wrappedKey);
    assert.notEqual(a.envelope.noncePrefix, b.envelope.noncePrefix);
    assert.ok(!a.stored.equals(b.stored));
    assert.deepEqual(Object.keys(a.envelope).sort(), ['kid', 'noncePrefix', 'segmentSize', 'v', 'wrappedKey']);
    assert.deepEqual(JSON.parse(JSON.stringify(a.envelope)), a.envelope);
  });

  describe('sizes', () => {
    it('maps plaintext sizes to stored sizes and back', () => {
      assert.equal(ciphertextSize(0), 16);
      assert.equal(ciphertextSize(1), 17);
      assert.equal(ciphertextSize(S), STORED);
      assert.equal(ciphertextSize(S + 1), STORED + 17);
      for (const size of [0, 1, 15, 16, 17, S - 1, S, S + 1, 2 * S, 2 * S + 5, 25 * 1024 * 1024])
        assert.equal(plaintextSize(ciphertextSize(size)), size);
      assert.equal(plaintextSize(ciphertextSize(1000, 100), 100), 1000);
    });

    it('refuses stored sizes no file can have', () => {
      for (const size of [0, 15, STORED + 15, STORED + 16, 3 * STORED + 16, -1, 1.5])
        assert.throws(() => plaintextSize(size), FileCryptoError, `size ${size}`);
    });
  });

  describe('ranges', () => {
    const size = 3 * S + 100;
    let plain: Buffer;
    let envelope: FileKeyEnvelope;
    let stored: Buffer;
    before(async () => {
      plain = randomBytes(size);
      ({ envelope, stored } = await seal(plain));
    });

    const cases: Array<[string, number, number]> = [
      ['the first byte', 0, 0],
      ['the last byte', size - 1, size - 1],
      ['the whole file', 0, size - 1],
      ['across a segment boundary', S - 10, S + 10],
      ['across three segments', S - 1, 2 * S],
      ['exactly one segment', S, 2 * S - 1],
      ['the first byte of a segment', 2 * S, 2 * S],
      ['the last byte of a segment', 2 * S - 1, 2 * S - 1],
      ['inside the short last segment', 3 * S + 5, 3 * S + 50],
      ['from the middle to the end', S + 123, size - 1],
    ];
    for (const [name, start, end] of cases) {
      it(`decrypts ${name} from only the stored bytes ciphertextRange names`, async () => {
        const r = ciphertextRange(start, end, size);
        assert.equal(r.start % STORED, 0);
        assert.equal(r.firstSegment, Math.floor(start / S));
        assert.equal(r.skip, start - r.firstSegment * S);
        assert.equal(r.take, end - start + 1);
        assert.ok(r.end < stored.length);
        const bytes = stored.subarray(r.start, r.end + 1);
        const got = await open(envelope, bytes, size, { range: { start, end } });
        assert.ok(got.equals(plain.subarray(start, end + 1)), `${name}: ${got.length} bytes`);
      });
    }

    it('names the exact stored bytes for a range in the last segment', () => {
      assert.deepEqual(ciphertextRange(3 * S + 5, 3 * S + 50, size), {
        start: 3 * STORED,
        end: ciphertextSize(size) - 1,
        firstSegment: 3,
        skip: 5,
        take: 46,
      });
    });

    it('refuses a range outside the file (the API answers 416)', () => {
      assert.throws(() => ciphertextRange(0, size, size), FileCryptoError);
      assert.throws(() => ciphertextRange(10, 5, size), FileCryptoError);
      assert.throws(() => ciphertextRange(0, 0, 0), FileCryptoError);
    });

    it('fails a range whose stored bytes were tampered with', async () => {
      const r = ciphertextRange(S, 2 * S - 1, size);
      const bytes = Buffer.from(stored.subarray(r.start, r.end + 1));
      bytes[100]! ^= 1;
      await assert.rejects(open(envelope, bytes, size, { range: { start: S, end: 2 * S - 1 } }), FileCryptoError);
    });

    it('fails a range fed the bytes of another segment', async () => {
      const bytes = stored.subarray(0, STORED);
      await assert.rejects(open(envelope, bytes, size, { range: { start: S, end: 2 * S - 1 } }), FileCryptoError);
    });
  });

  describe('tampering', () => {
    const size = 3 * S + 100;
    let plain: Buffer;
    let envelope: FileKeyEnvelope;
    let stored: Buffer;
    before(async () => {
      plain = randomBytes(size);
      ({ envelope, stored } = await seal(plain));
    });

    it('fails on a flipped byte without emitting any of that segment', async () => {
      for (const at of [0, STORED - 1, 2 * STORED + 7, stored.length - 1]) {
        const bad = Buffer.from(stored);
        bad[at]! ^= 0x40;
        const { emitted } = await openFailing(envelope, bad, size);
        // At most the segments before the flipped one (the reader may drop some once the stream errors).
        const verified = Math.floor(at / STORED) * S;
        assert.ok(emitted.length <= verified, `flip at ${at}: ${emitted.length} bytes out`);
        assert.ok(emitted.equals(plain.subarray(0, emitted.length)));
      }
    });

    it('fails on truncation inside a segment and exactly at a segment boundary', async () => {
      for (const length of [stored.length - 1, 3 * STORED, 2 * STORED, STORED, 10, 0]) {
        const { error } = await openFailing(envelope, stored.subarray(0, length), size);
        assert.match(error.message, /truncated/);
      }
    });

    it('fails when a file ending on a segment boundary loses its final segment', async () => {
      const full = randomBytes(2 * S);
      const sealed = await seal(full);
      assert.equal(sealed.stored.length, 2 * STORED);
      // Even when the row's size is edited to match, the now-last segment was not sealed as last.
      await openFailing(sealed.envelope, sealed.stored.subarray(0, STORED), S);
    });

    it('fails on reordered or duplicated segments', async () => {
      const seg = (i: number) => stored.subarray(i * STORED, Math.min((i + 1) * STORED, stored.length));
      const swapped = Buffer.concat([seg(1), seg(0), seg(2), seg(3)]);
      assert.equal(swapped.length, stored.length);
      await openFailing(envelope, swapped, size);
      await openFailing(envelope, Buffer.concat([seg(0), seg(0), seg(2), seg(3)]), size);
      await openFailing(envelope, Buffer.concat([seg(0), seg(1), seg(1), seg(3)]), size);
    });

    it('fails on trailing bytes, whether garbage or a copied segment', async () => {
      const { error } = await openFailing(envelope, Buffer.concat([stored, Buffer.from([0])]), size);
      assert.match(error.message, /trailing/);
      await openFailing(envelope, Buffer.concat([stored, stored.subarray(0, STORED)]), size);
    });

    it('fails when the row claims another size', async () => {
      await openFailing(envelope, stored, size - 1);
      await openFailing(envelope, stored, size + 1);
      await openFailing(envelope, stored, 2 * S);
    });

    it("fails on another attachment's object, even with its key", async () => {
      const other = fileKeyContext('org-1', 'att-2');
      const theirs = await seal(plain, other);
      // Their envelope does not open under our context...
      assert.throws(() => openFileKey(keys, theirs.envelope, context), FileCryptoError);
      // ...and their object does not decrypt under our context even with their data key.
      const dataKey = openFileKey(keys, theirs.envelope, other);
      const stream = decryptStream(dataKey, theirs.envelope, context, { plainSize: size });
      await assert.rejects(collect(chunked(theirs.stored), stream), FileCryptoError);
      // Our envelope with their object: a different data key.
      await openFailing(envelope, theirs.stored, size);
    });

    it('refuses an envelope with a relabelled key id or edited fields', async () => {
      assert.throws(() => openFileKey(keys, { ...envelope, kid: 'k2' }, context), FileCryptoError);
      assert.throws(() => openFileKey(keys, { ...envelope, segmentSize: 1024 }, context), FileCryptoError);
      const prefix = Buffer.from(envelope.noncePrefix, 'base64');
      prefix[0]! ^= 1;
      assert.throws(() => openFileKey(keys, { ...envelope, noncePrefix: prefix.toString('base64') }, context));
      const wrapped = Buffer.from(envelope.wrappedKey, 'base64');
      wrapped[20]! ^= 1;
      assert.throws(() => openFileKey(keys, { ...envelope, wrappedKey: wrapped.toString('base64') }, context));
    });

    it('names a master key that is missing from the ring', () => {
      assert.throws(() => openFileKey(ring('k2', 'k2'), envelope, context), /master key "k1"/);
    });

    it('refuses a data key of the wrong file', async () => {
      const other = newFileKey(keys, context);
      const stream = decryptStream(other.dataKey, envelope, context, { plainSize: size });
      await assert.rejects(collect(chunked(stored), stream), FileCryptoError);
    });
  });

  describe('key rotation', () => {
    it('re-wraps the data key under the active master key; the stored object still decrypts', async () => {
      const plain = randomBytes(S + 10);
      const { envelope, stored } = await seal(plain);
      assert.equal(envelope.kid, 'k1');
      const rotated = ring('k2', 'k1', 'k2');
      assert.equal(isFileKeyCurrent(rotated, envelope), false);
      const rewrapped = rewrapFileKey(rotated, envelope, context);
      assert.equal(rewrapped.kid, 'k2');
      assert.equal(isFileKeyCurrent(rotated, rewrapped), true);
      assert.equal(rewrapped.noncePrefix, envelope.noncePrefix);
      assert.notEqual(rewrapped.wrappedKey, envelope.wrappedKey);
      // The old key can now leave the ring.
      assert.ok((await open(rewrapped, stored, plain.length, { ring: ring('k2', 'k2') })).equals(plain));
    });

    it('refuses to re-wrap for another attachment', () => {
      const { envelope } = newFileKey(keys, context);
      assert.throws(() => rewrapFileKey(ring('k2', 'k1', 'k2'), envelope, fileKeyContext('org-2', 'att-1')));
    });
  });

  describe('streaming', () => {
    const total = 20 * 1024 * 1024;

    /** 20 MB of deterministic bytes produced on demand, counting what the pipeline has pulled. */
    function source() {
      let produced = 0;
      const block = Buffer.alloc(16 * 1024);
      const stream = new Readable({
        read() {
          if (produced >= total) return void this.push(null);
          block.fill(produced / block.length);
          produced += block.length;
          this.push(Buffer.from(block));
        },
      });
      return { stream, produced: () => produced };
    }

    it('holds back the source while nobody reads (backpressure), then delivers 20 MB intact', async () => {
      const { dataKey, envelope } = newFileKey(keys, context);
      const openKey = Buffer.from(dataKey);
      const src = source();
      const enc = encryptStream(dataKey, envelope, context);
      const dec = decryptStream(openKey, envelope, context, { plainSize: total });
      dataKey.fill(0);
      openKey.fill(0);
      src.stream.pipe(enc).pipe(dec);
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
      // Only what fits in the streams' buffers (a few segments), never the file.
      assert.ok(src.produced() < 1024 * 1024, `pulled ${src.produced()} bytes with no reader`);

      const want = createHash('sha256');
      for (let at = 0; at < total; at += 16 * 1024) want.update(Buffer.alloc(16 * 1024, at / (16 * 1024)));
      const got = createHash('sha256');
      let largestChunk = 0;
      let delivered = 0;
      let inFlight = 0;
      await pipeline(
        dec,
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            largestChunk = Math.max(largestChunk, chunk.length);
            got.update(chunk);
            delivered += chunk.length;
            // Pulled from the source but not yet delivered: what the two streams hold at this moment.
            inFlight = Math.max(inFlight, src.produced() - delivered);
            callback();
          },
        }),
      );
      assert.equal(got.digest('hex'), want.digest('hex'));
      assert.ok(largestChunk <= S, `largest chunk ${largestChunk}`);
      assert.ok(inFlight < 1024 * 1024, `${inFlight} bytes held inside the streams at once`);
    });

    it('emits a segment as soon as it is verified, before the rest of the object arrives', async () => {
      const plain = randomBytes(3 * S);
      const { envelope, stored } = await seal(plain);
      const dataKey = openFileKey(keys, envelope, context);
      const dec = decryptStream(dataKey, envelope, context, { plainSize: plain.length });
      dataKey.fill(0);
      const first = new Promise<Buffer>((resolve) => dec.once('data', resolve));
      dec.write(stored.subarray(0, STORED - 1));
      assert.equal(dec.readableLength, 0, 'nothing before the tag is complete');
      dec.write(stored.subarray(STORED - 1, STORED));
      assert.ok((await first).equals(plain.subarray(0, S)));
      dec.destroy();
    });
  });
});
