// Encryption at rest for attachments: a streaming, chunked AEAD (AES-256-GCM) in the shape of the STREAM
// construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015). The plaintext is cut into segments of `segmentSize`
// bytes (64 KiB); each segment is sealed on its own, with the nonce
//
//     noncePrefix (7 random bytes) || segment counter (4 bytes, big-endian) || last-segment flag (1 byte)
//
// so a segment moved to another position fails its tag (the counter differs), a file cut after any segment fails
// (the segment that is now last was sealed without the flag), and each segment can be opened alone, which is what
// HTTP Range downloads need. Every file has its own random data key, wrapped by the key ring's active master key
// exactly like integration credentials (common/crypto/envelope.ts), so rotating master keys re-wraps 32 bytes per
// file and never re-encrypts an object. Both layers authenticate a context string naming the attachment
// (fileKeyContext): an object or envelope copied to another attachment does not open there.
//
// The stored object is only the sealed segments (ciphertext || 16-byte tag each); everything else, the wrapped key,
// nonce prefix and segment size, is the FileKeyEnvelope kept in the attachment's database row with the plaintext
// size. Knowing the size, the decryptor knows exactly how long every segment is and which one is last, so trailing
// bytes and a missing tail are caught even when the cut falls on a segment boundary.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { KeyRing } from '../config.ts';

export const SEGMENT_SIZE = 64 * 1024;
export const TAG_BYTES = 16;
const NONCE_PREFIX_BYTES = 7;
const KEY_BYTES = 32;
const WRAP_IV_BYTES = 12;
// Segments are buffered whole on both sides; a row claiming a larger size is damaged, not a reason to allocate it.
const MAX_SEGMENT_SIZE = 16 * 1024 * 1024;
// The counter is 32 bits: 2^32 segments of 64 KiB is 256 TiB, far past any attachment limit.
const MAX_SEGMENTS = 2 ** 32;

/** What the attachment's row keeps to decrypt its object (JSON-able, stored as jsonb). */
export type FileKeyEnvelope = {
  v: 1;
  /** The master key that wraps the data key. */
  kid: string;
  /** base64 of IV (12) || AES-256-GCM(data key) (32) || tag (16). */
  wrappedKey: string;
  /** base64 of the 7-byte nonce prefix. */
  noncePrefix: string;
  segmentSize: number;
};

/** Thrown for any object or envelope that does not open: unknown key id, another attachment, tampered, truncated. */
export class FileCryptoError extends Error {
  override name = 'FileCryptoError';
}

/** The context both layers authenticate: the upload path and rotate-keys must build it the same way. */
export const fileKeyContext = (organizationId: string, attachmentId: string) =>
  `attachment/${organizationId}/${attachmentId}`;

/** True when the envelope is already wrapped by the ring's active master key (rotate-keys skips it). */
export const isFileKeyCurrent = (keys: KeyRing, envelope: FileKeyEnvelope) => envelope.kid === keys.activeKeyId;

/**
 * A fresh data key and its envelope for one file. The caller zeroes `dataKey` (`dataKey.fill(0)`) once it has
 * created its encryptStream: the stream keeps a copy of its own.
 */
export function newFileKey(
  keys: KeyRing,
  context: string,
  options: { segmentSize?: number } = {},
): { dataKey: Buffer; envelope: FileKeyEnvelope } {
  const segmentSize = options.segmentSize ?? SEGMENT_SIZE;
  checkSegmentSize(segmentSize);
  const dataKey = randomBytes(KEY_BYTES);
  const noncePrefix = randomBytes(NONCE_PREFIX_BYTES).toString('base64');
  const kid = keys.activeKeyId;
  const header = { kid, noncePrefix, segmentSize };
  return { dataKey, envelope: { v: 1, ...header, wrappedKey: wrap(keys, header, dataKey, context) } };
}

/** The file's data key; the caller zeroes it when its streams are created. */
export function openFileKey(keys: KeyRing, envelope: FileKeyEnvelope, context: string): Buffer {
  checkEnvelope(envelope);
  const master = masterKey(keys, envelope.kid);
  const bytes = Buffer.from(envelope.wrappedKey, 'base64');
  if (bytes.length !== WRAP_IV_BYTES + KEY_BYTES + TAG_BYTES) throw notForThis(context);
  try {
    const decipher = createDecipheriv('aes-256-gcm', master, bytes.subarray(0, WRAP_IV_BYTES));
    decipher.setAAD(wrapAad(envelope, context));
    decipher.setAuthTag(bytes.subarray(WRAP_IV_BYTES + KEY_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(WRAP_IV_BYTES, WRAP_IV_BYTES + KEY_BYTES)), decipher.final()]);
  } catch {
    throw notForThis(context);
  }
}

/** The same data key wrapped by the ring's active master key; the stored object is untouched. */
export function rewrapFileKey(keys: KeyRing, envelope: FileKeyEnvelope, context: string): FileKeyEnvelope {
  const dataKey = openFileKey(keys, envelope, context);
  try {
    const header = { kid: keys.activeKeyId, noncePrefix: envelope.noncePrefix, segmentSize: envelope.segmentSize };
    return { v: 1, ...header, wrappedKey: wrap(keys, header, dataKey, context) };
  } finally {
    dataKey.fill(0);
  }
}

/** Bytes of the stored object for a plaintext of `plainSize` bytes. An empty file is one empty sealed segment. */
export function ciphertextSize(plainSize: number, segmentSize = SEGMENT_SIZE): number {
  checkSize(plainSize, 'plaintext size');
  return plainSize + segmentCount(plainSize, segmentSize) * TAG_BYTES;
}

/** The plaintext size an object of `cipherSize` bytes holds; throws FileCryptoError when no plaintext fits. */
export function plaintextSize(cipherSize: number, segmentSize = SEGMENT_SIZE): number {
  checkSize(cipherSize, 'ciphertext size');
  const stored = segmentSize + TAG_BYTES;
  const segments = Math.max(1, Math.ceil(cipherSize / stored));
  const last = cipherSize - (segments - 1) * stored;
  // Only an empty file has an empty (tag-only) segment: the encryptor never ends on an empty segment otherwise.
  if (last < TAG_BYTES || (last === TAG_BYTES && segments > 1))
    throw new FileCryptoError(`${cipherSize} bytes is not the size of a sealed file`);
  return cipherSize - segments * TAG_BYTES;
}

/**
 * Which stored bytes to fetch for the inclusive plaintext range [plainStart, plainEnd] (HTTP Range semantics), and
 * how to trim what they decrypt to. `start`/`end` are inclusive offsets into the object (a storage range request
 * `bytes=start-end`); `firstSegment` is the index of the first segment fetched; `skip` is how many plaintext bytes
 * of that segment precede plainStart; `take` is the number of plaintext bytes in the range. decryptStream does the
 * trimming itself when given the same range.
 */
export function ciphertextRange(
  plainStart: number,
  plainEnd: number,
  plainSize: number,
  segmentSize = SEGMENT_SIZE,
): { start: number; end: number; firstSegment: number; skip: number; take: number } {
  checkRange(plainStart, plainEnd, plainSize);
  const stored = segmentSize + TAG_BYTES;
  const firstSegment = Math.floor(plainStart / segmentSize);
  const lastSegment = Math.floor(plainEnd / segmentSize);
  return {
    start: firstSegment * stored,
    end: Math.min((lastSegment + 1) * stored, ciphertextSize(plainSize, segmentSize)) - 1,
    firstSegment,
    skip: plainStart - firstSegment * segmentSize,
    take: plainEnd - plainStart + 1,
  };
}

/**
 * Plaintext in, the stored object out. Segments are emitted as soon as the next byte proves they are not the last;
 * the last one (flagged) at the end, even for an empty file. The stream copies the data key and zeroes its copy
 * when it ends or is destroyed.
 */
export function encryptStream(dataKey: Buffer, envelope: FileKeyEnvelope, context: string): Transform {
  checkEnvelope(envelope);
  return new SealStream(dataKey, envelope, context);
}

/**
 * The stored object in, plaintext out; every segment's tag is checked before any of its bytes are emitted, and the
 * stream fails with FileCryptoError on the first bad segment, a missing tail or trailing bytes. Without `range`, the
 * input is the whole object; with it, the input is exactly the object's bytes ciphertextRange names for that
 * range, and the output is the range's plaintext.
 */
export function decryptStream(
  dataKey: Buffer,
  envelope: FileKeyEnvelope,
  context: string,
  options: { plainSize: number; range?: { start: number; end: number } },
): Transform {
  checkEnvelope(envelope);
  checkSize(options.plainSize, 'plaintext size');
  segmentCount(options.plainSize, envelope.segmentSize);
  if (options.range) checkRange(options.range.start, options.range.end, options.plainSize);
  return new OpenStream(dataKey, envelope, context, options.plainSize, options.range);
}

// -- streams --

/** Shared by both directions: the key copy, the nonce layout and a queue of input chunks. */
abstract class SegmentStream extends Transform {
  protected readonly key: Buffer;
  protected readonly prefix: Buffer;
  protected readonly aad: Buffer;
  protected readonly segmentSize: number;
  #chunks: Buffer[] = [];
  #buffered = 0;

  constructor(dataKey: Buffer, envelope: FileKeyEnvelope, context: string) {
    super();
    if (dataKey.length !== KEY_BYTES) throw new FileCryptoError('a file data key is 32 bytes');
    this.key = Buffer.alloc(KEY_BYTES);
    dataKey.copy(this.key);
    this.prefix = Buffer.from(envelope.noncePrefix, 'base64');
    this.aad = segmentAad(context);
    this.segmentSize = envelope.segmentSize;
  }

  protected nonce(index: number, last: boolean): Buffer {
    const nonce = Buffer.alloc(NONCE_PREFIX_BYTES + 5);
    this.prefix.copy(nonce, 0);
    nonce.writeUInt32BE(index, NONCE_PREFIX_BYTES);
    nonce[NONCE_PREFIX_BYTES + 4] = last ? 1 : 0;
    return nonce;
  }

  protected get buffered(): number {
    return this.#buffered;
  }

  protected queue(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** Removes and returns the first `n` queued bytes (n <= buffered), copying only when they span chunks. */
  protected dequeue(n: number): Buffer {
    const first = this.#chunks[0];
    let out: Buffer;
    if (first && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.#chunks[0]!;
        const part = Math.min(chunk.length, n - filled);
        chunk.copy(out, filled, 0, part);
        filled += part;
        if (part === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(part);
      }
    }
    this.#buffered -= n;
    return out;
  }

  /** Removes and returns the first `n` queued bytes (n <= buffered) as the pieces they are queued in, uncopied. */
  protected dequeuePieces(n: number): Buffer[] {
    const pieces: Buffer[] = [];
    let taken = 0;
    while (taken < n) {
      const chunk = this.#chunks[0]!;
      const part = Math.min(chunk.length, n - taken);
      pieces.push(part === chunk.length ? chunk : chunk.subarray(0, part));
      taken += part;
      if (part === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part);
    }
    this.#buffered -= n;
    return pieces;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.key.fill(0);
    this.#chunks = [];
    this.#buffered = 0;
    callback(error);
  }
}

class SealStream extends SegmentStream {
  #index = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.queue(chunk);
    try {
      // Strictly more than a segment: only a following byte proves a full segment is not the last one.
      while (this.buffered > this.segmentSize) this.#seal(this.dequeuePieces(this.segmentSize), false);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#seal(this.dequeuePieces(this.buffered), true);
      this.key.fill(0);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  /**
   * Seals one segment given as the pieces it arrived in. GCM's output is as long as its input, so each piece is
   * encrypted and passed on as it is, then the tag: neither the plaintext segment nor the sealed one is assembled
   * (two copies of every byte fewer, and less for the garbage collector).
   */
  #seal(plain: Buffer[], last: boolean): void {
    if (this.#index >= MAX_SEGMENTS) throw new FileCryptoError('file too large for one sealed stream');
    const cipher = createCipheriv('aes-256-gcm', this.key, this.nonce(this.#index, last));
    cipher.setAAD(this.aad);
    for (const piece of plain) this.push(cipher.update(piece));
    cipher.final();
    this.push(cipher.getAuthTag());
    this.#index++;
  }
}

class OpenStream extends SegmentStream {
  readonly #context: string;
  readonly #plainSize: number;
  readonly #segments: number;
  /** The plaintext byte range to emit, inclusive. */
  readonly #from: number;
  readonly #to: number;
  #index: number;
  readonly #lastIndex: number;
  #failed = false;

  constructor(
    dataKey: Buffer,
    envelope: FileKeyEnvelope,
    context: string,
    plainSize: number,
    range: { start: number; end: number } | undefined,
  ) {
    super(dataKey, envelope, context);
    this.#context = context;
    this.#plainSize = plainSize;
    this.#segments = segmentCount(plainSize, this.segmentSize);
    this.#from = range?.start ?? 0;
    this.#to = range?.end ?? plainSize - 1;
    this.#index = range ? Math.floor(range.start / this.segmentSize) : 0;
    this.#lastIndex = range ? Math.floor(range.end / this.segmentSize) : this.#segments - 1;
  }

  /** Stored length of segment `index`: the last one holds what is left of the file. */
  #storedLength(index: number): number {
    const plain = index < this.#segments - 1 ? this.segmentSize : this.#plainSize - index * this.segmentSize;
    return plain + TAG_BYTES;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.#failed) {
      callback();
      return;
    }
    this.queue(chunk);
    try {
      while (this.#index <= this.#lastIndex && this.buffered >= this.#storedLength(this.#index)) this.#open();
      if (this.#index > this.#lastIndex && this.buffered > 0)
        throw new FileCryptoError(`the stored file for ${this.#context} has trailing bytes (tampered)`);
      callback();
    } catch (error) {
      this.#fail(error, callback);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.#failed) {
      callback();
      return;
    }
    this.key.fill(0);
    if (this.#index <= this.#lastIndex)
      this.#fail(new FileCryptoError(`the stored file for ${this.#context} is truncated`), callback);
    else callback();
  }

  #open(): void {
    const index = this.#index;
    const sealed = this.dequeue(this.#storedLength(index));
    const decipher = createDecipheriv('aes-256-gcm', this.key, this.nonce(index, index === this.#segments - 1));
    decipher.setAAD(this.aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      plain.fill(0);
      throw new FileCryptoError(
        `segment ${index} of the stored file for ${this.#context} does not authenticate (tampered, reordered, or another file)`,
      );
    }
    this.#index++;
    const offset = index * this.segmentSize;
    const from = Math.max(this.#from - offset, 0);
    const to = Math.min(this.#to - offset + 1, plain.length);
    if (to > from) this.push(plain.subarray(from, to));
  }

  #fail(error: unknown, callback: TransformCallback): void {
    this.#failed = true;
    this.key.fill(0);
    callback(error instanceof FileCryptoError ? error : new FileCryptoError(String(error)));
  }
}

// -- keys and checks --

type WrapHeader = { kid: string; noncePrefix: string; segmentSize: number };

// Separate from the credentials' AAD, so a credential's wrapped key never opens as a file key or the reverse; the
// key id, nonce prefix and segment size are bound too, so an envelope edited in the row does not open.
const wrapAad = (header: WrapHeader, context: string) =>
  Buffer.from(
    `switchboard/attachments/v1/data-key/${header.kid}/${header.noncePrefix}/${header.segmentSize}/${context}`,
  );
const segmentAad = (context: string) => Buffer.from(`switchboard/attachments/v1/segment/${context}`);

function wrap(keys: KeyRing, header: WrapHeader, dataKey: Buffer, context: string): string {
  const iv = randomBytes(WRAP_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey(keys, header.kid), iv);
  cipher.setAAD(wrapAad(header, context));
  const wrapped = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([iv, wrapped, cipher.getAuthTag()]).toString('base64');
}

function masterKey(keys: KeyRing, kid: string): Buffer {
  const key = keys.keys.get(kid);
  if (!key) throw new FileCryptoError(`the file key is wrapped with master key "${kid}", which is not in the key ring`);
  return key;
}

const notForThis = (context: string) =>
  new FileCryptoError(`the file key does not open for ${context} (another attachment, or tampered)`);

function checkEnvelope(envelope: FileKeyEnvelope): void {
  if (envelope?.v !== 1) throw new FileCryptoError(`unknown file key envelope version ${String(envelope?.v)}`);
  checkSegmentSize(envelope.segmentSize);
  if (Buffer.from(envelope.noncePrefix, 'base64').length !== NONCE_PREFIX_BYTES)
    throw new FileCryptoError('the file key envelope has a malformed nonce prefix');
}

function checkSegmentSize(segmentSize: number): void {
  if (!Number.isSafeInteger(segmentSize) || segmentSize < 1 || segmentSize > MAX_SEGMENT_SIZE)
    throw new FileCryptoError(`segment size ${segmentSize} is out of range`);
}

function checkSize(size: number, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new FileCryptoError(`${what} ${size} is not a byte count`);
}

function checkRange(start: number, end: number, plainSize: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end >= plainSize)
    throw new FileCryptoError(`range ${start}-${end} is not within a file of ${plainSize} bytes`);
}

function segmentCount(plainSize: number, segmentSize: number): number {
  const count = plainSize === 0 ? 1 : Math.ceil(plainSize / segmentSize);
  if (count > MAX_SEGMENTS) throw new FileCryptoError('file too large for one sealed stream');
  return count;
}
