// S3-compatible driver through the `minio` client (MinIO, AWS S3, and others that speak the S3 API).
//
// Puts: a body under one part (5 MiB, the S3 minimum) goes up in a single PUT; a longer one as a multipart upload
// in 5 MiB parts that the driver drives itself: two parts on the wire while the next one fills, in buffers shared
// by every upload of the process and bounded in number (part-buffers.ts), so the memory parts take is flat however
// many uploads run. The client's own putObject would not do: for a body of unknown length it picks parts of over
// 500 MiB and buffers each, and it never settles when the body fails.
import type http from 'node:http';
import type https from 'node:https';
import { finished, type Readable } from 'node:stream';
import { Client, CopyDestinationOptions, CopySourceOptions } from 'minio';
import {
  BlobNotFoundError,
  type BlobStore,
  BlobStorePermanentError,
  BlobStoreUnavailableError,
  checkKey,
  checkRange,
  describe,
  isTransientNetworkError,
} from './blob-store.ts';
import { PartBuffers } from './part-buffers.ts';

export type S3StoreOptions = {
  endpoint: string;
  region?: string;
  bucket: string;
  /** Path-style URLs (http://host/bucket/key): what MinIO and most S3-compatible servers expect. */
  pathStyle?: boolean;
  /** Prepended to every key ("tenant-a/"), so several deployments can share a bucket. */
  prefix?: string;
  accessKey: string;
  secretKey: string;
  /** Used for every connection; the organisation-supplied endpoints get the SSRF-guarded agent. */
  agent?: http.Agent | https.Agent;
  /** Where parts are collected: the process's shared buffers unless a test brings its own. */
  partBuffers?: PartBuffers;
};

/** The S3 minimum for every part but the last. */
const PART_SIZE = 5 * 1024 * 1024;
/**
 * Part buffers per process, across every S3 store and upload: 20 MiB. One upload uses three when it has them (two
 * parts sending, one filling); more uploads at once share them and wait their turn, their bodies held back by
 * backpressure. Measured with `npm run bench -- files` (specification/performance.md, "Attachments").
 */
const PART_BUFFERS = 4;
/** Parts of one upload on the wire at once. */
const MAX_PARTS_SENDING = 2;
const sharedPartBuffers = new PartBuffers(PART_SIZE, PART_BUFFERS);

/** S3 error codes that a later attempt can get past. */
const transientS3Codes = new Set([
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'OperationAborted',
  'XMinioServerNotInitialized',
  'XMinioReadQuorum',
  'XMinioWriteQuorum',
]);
const notFoundCodes = new Set(['NoSuchKey', 'NotFound']);

export function classifyS3Error(error: unknown, action: string, key?: string): Error {
  if (error instanceof BlobNotFoundError || error instanceof BlobStorePermanentError) return error;
  if (error instanceof BlobStoreUnavailableError) return error;
  const code = (error as { code?: unknown }).code;
  if (key !== undefined && typeof code === 'string' && notFoundCodes.has(code))
    return new BlobNotFoundError(`no blob at ${key}`, { cause: error });
  const message = `S3: ${action} failed (${describe(error)})`;
  if (isTransientNetworkError(error) || (typeof code === 'string' && transientS3Codes.has(code)))
    return new BlobStoreUnavailableError(message, { cause: error });
  return new BlobStorePermanentError(message, { cause: error });
}

/**
 * Reads a body into part buffers, copying each chunk once. It takes chunks as 'data' events: flowing mode hands each
 * one over as it was pushed, where an async iterator would read() and join whatever is buffered, a second copy of
 * every byte (and as much garbage). The body is paused whenever no buffer waits to be filled.
 */
class PartReader {
  readonly #body: Readable;
  /** What is left of the last chunk: the body is paused while there is some. */
  #leftover: Buffer | undefined;
  #ended = false;
  #error: { error: unknown } | undefined;
  #filling: { buffer: Buffer; filled: number; done(): void } | undefined;
  #wake: (() => void) | undefined;
  /** Bytes read from the body so far (all of it once hasMore() is false). */
  bytes = 0;

  constructor(body: Readable) {
    this.#body = body;
    body.pause(); // before the listener, which would otherwise start the flow
    body.on('data', (chunk: Buffer | string) => this.#take(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
    finished(body, { writable: false }, (error) => {
      if (error) this.#error = { error };
      else this.#ended = true;
      this.#settle();
    });
  }

  #take(chunk: Buffer): void {
    let rest = chunk;
    const target = this.#filling;
    if (target) {
      const n = rest.copy(target.buffer, target.filled);
      target.filled += n;
      rest = rest.subarray(n);
      if (target.filled === target.buffer.length) this.#settle();
    }
    if (rest.length > 0) {
      // Paused with a leftover, no chunk should come before it is used; should one, it is kept, not dropped.
      this.#leftover = this.#leftover ? Buffer.concat([this.#leftover, rest]) : rest;
      this.#settle();
    }
  }

  /** Ends the current wait: a buffer filled, a chunk arrived, the body ended or failed. */
  #settle(): void {
    this.#body.pause();
    const done = this.#filling?.done ?? this.#wake;
    this.#filling = undefined;
    this.#wake = undefined;
    done?.();
  }

  /** Lets the body flow until `#settle`: into `filling` when given, else until one chunk is left over. */
  #wait(filling?: { buffer: Buffer; filled: number; done(): void }): Promise<void> {
    return new Promise<void>((resolve) => {
      if (filling) {
        filling.done = resolve;
        this.#filling = filling;
      } else this.#wake = resolve;
      this.#body.resume();
    });
  }

  /** True while bytes remain; waits for the next chunk to know, so a body ending on a part boundary is seen ended. */
  async hasMore(): Promise<boolean> {
    while (!this.#leftover && !this.#ended && !this.#error) await this.#wait();
    if (this.#leftover) return true;
    if (this.#error) throw this.#error.error;
    return false;
  }

  /** Fills `buffer` from the body until it is full or the body ends; the number of bytes written. */
  async fill(buffer: Buffer): Promise<number> {
    let filled = 0;
    const leftover = this.#leftover;
    if (leftover) {
      filled = leftover.copy(buffer);
      this.#leftover = filled < leftover.length ? leftover.subarray(filled) : undefined;
    }
    if (filled < buffer.length && !this.#leftover && !this.#ended && !this.#error) {
      const filling = { buffer, filled, done: () => {} };
      await this.#wait(filling);
      filled = filling.filled;
    }
    if (this.#error) throw this.#error.error;
    this.bytes += filled;
    return filled;
  }
}

export class S3BlobStore implements BlobStore {
  readonly driver = 's3' as const;
  private readonly client: Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly buffers: PartBuffers;

  constructor(options: S3StoreOptions) {
    const url = new URL(options.endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new BlobStorePermanentError(`S3 endpoint must be http(s), not ${url.protocol}`);
    if (url.pathname !== '/' && url.pathname !== '')
      throw new BlobStorePermanentError('S3 endpoint must not have a path; the bucket goes in `bucket`');
    const useSSL = url.protocol === 'https:';
    this.buffers = options.partBuffers ?? sharedPartBuffers;
    if (this.buffers.size < PART_SIZE) throw new BlobStorePermanentError('S3 parts are at least 5 MiB');
    this.client = new Client({
      endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? (useSSL ? 443 : 80) : Number(url.port),
      useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      // A region given up front spares the client a GetBucketLocation round trip before the first request.
      region: options.region ?? 'us-east-1',
      pathStyle: options.pathStyle ?? true,
      partSize: this.buffers.size,
      ...(options.agent ? { transportAgent: options.agent as http.Agent } : {}),
    });
    // Every payload is signed with its SHA-256, over TLS as well (the client would send UNSIGNED-PAYLOAD there): the
    // server then checks each part it stores against the bytes this process sealed, across a TLS-terminating proxy
    // too, for one SHA-256 pass that replaces the Content-MD5 pass parts carried before (decisions.md, "S3 parts").
    this.client.enableSHA256 = true;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
  }

  private objectName(key: string): string {
    checkKey(key);
    return this.prefix + key;
  }

  async put(key: string, body: Readable): Promise<{ bytes: number }> {
    const name = this.objectName(key);
    const reader = new PartReader(body);
    // Waiting for a part buffer ends when the body fails (the upload broke while the process was at its limit).
    const bodyGone = new AbortController();
    const onClose = () => {
      if (!body.readableEnded) bodyGone.abort(body.errored ?? new Error('the body closed before its end'));
    };
    body.once('close', onClose);
    /** Buffers taken from the pool and not yet handed to a part request (which gives its own back). */
    const held = new Set<Buffer>();
    const sending = new Set<Promise<void>>();
    /** The first part request that failed: the upload stops at its next step rather than read on. */
    let failure: { error: unknown } | undefined;
    const stopIfFailed = () => {
      if (failure) throw failure.error;
    };
    let uploadId: Promise<string> | undefined;
    const take = async () => {
      const buffer = await this.buffers.take(bodyGone.signal);
      held.add(buffer);
      return buffer;
    };
    try {
      // A body that fits in one part goes up in one PUT with its length (also the only way to store an empty
      // object: a multipart upload needs at least one part). A longer one streams as a multipart upload.
      const first = await take();
      let filled = await reader.fill(first);
      if (!(await reader.hasMore())) {
        await this.client.putObject(this.bucket, name, first.subarray(0, filled), filled);
        return { bytes: reader.bytes };
      }
      // The multipart upload is driven here rather than by putObject: putObject never notices a body that fails
      // (it waits for its end forever), and it would resume an earlier failed upload of the same key. Its id is
      // asked for while the next part fills.
      uploadId = this.client.initiateNewMultipartUpload(this.bucket, name, {});
      uploadId.catch(() => {}); // awaited by the first part; a body failing first must not leave it unhandled
      const etags: Array<{ part: number; etag: string }> = [];
      let buffer = first;
      for (let part = 1; ; part++) {
        const payload = buffer.subarray(0, filled);
        const taken = buffer;
        held.delete(taken);
        // The client signs the part with its SHA-256 (over TLS too, see the constructor): the server checks the
        // bytes it stores against it, so no Content-MD5 hashes the same bytes again.
        const request = uploadId
          .then((id) =>
            this.client.uploadPart(
              { bucketName: this.bucket, objectName: name, uploadID: id, partNumber: part, headers: {} },
              payload,
            ),
          )
          .then(
            ({ etag }) => void etags.push({ part, etag }),
            (error: unknown) => {
              failure ??= { error };
              throw error;
            },
          )
          // The buffer goes back only once its request has settled: until then the socket may still read it.
          .finally(() => {
            sending.delete(request);
            this.buffers.give(taken);
          });
        request.catch(() => {}); // awaited below; a failure while the next part fills must not go unhandled
        sending.add(request);
        if (!(await reader.hasMore())) break;
        // Two parts on the wire at most, the next one filling meanwhile: the request body keeps flowing while a
        // part waits for the server's answer.
        while (sending.size >= MAX_PARTS_SENDING && !failure) await Promise.race(sending).catch(() => {});
        stopIfFailed();
        buffer = await take();
        filled = await reader.fill(buffer);
        stopIfFailed();
      }
      await Promise.all(sending);
      etags.sort((a, b) => a.part - b.part);
      await this.client.completeMultipartUpload(this.bucket, name, await uploadId, etags);
      return { bytes: reader.bytes };
    } catch (error) {
      body.destroy();
      // Parts still on the wire keep their buffers until they settle; the upload is aborted after them, so no part
      // lands after the abort.
      await Promise.allSettled(sending);
      // Parts of an aborted upload would stay on the server, invisible to list and still billed. If the server is
      // down the abort fails too: that is what a bucket lifecycle rule (AbortIncompleteMultipartUpload) is for.
      const id = await uploadId?.catch(() => undefined);
      if (id) await this.client.abortMultipartUpload(this.bucket, name, id).catch(() => {});
      // A body that failed (the upload broke) is the caller's error, passed on as it is.
      if (body.errored) throw body.errored;
      throw classifyS3Error(error, 'put');
    } finally {
      body.off('close', onClose);
      for (const buffer of held) this.buffers.give(buffer);
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const name = this.objectName(key);
    try {
      if (!range) return await this.client.getObject(this.bucket, name);
      checkRange(range);
      return await this.client.getPartialObject(this.bucket, name, range.start, range.end - range.start + 1);
    } catch (error) {
      throw classifyS3Error(error, 'get', key);
    }
  }

  async size(key: string): Promise<number | undefined> {
    const name = this.objectName(key);
    try {
      return (await this.client.statObject(this.bucket, name)).size;
    } catch (error) {
      const classified = classifyS3Error(error, 'size', key);
      if (classified instanceof BlobNotFoundError) {
        // HEAD has no body, so a missing bucket also reads as a plain 404: tell the two apart.
        if (await this.bucketExists()) return undefined;
        throw new BlobStorePermanentError(`S3: bucket ${this.bucket} does not exist`, { cause: error });
      }
      throw classified;
    }
  }

  private async bucketExists(): Promise<boolean> {
    try {
      return await this.client.bucketExists(this.bucket);
    } catch (error) {
      throw classifyS3Error(error, 'bucket check');
    }
  }

  async delete(key: string): Promise<void> {
    const name = this.objectName(key);
    try {
      // S3 answers 204 for a missing key as well, so this is idempotent by itself.
      await this.client.removeObject(this.bucket, name);
    } catch (error) {
      throw classifyS3Error(error, 'delete');
    }
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const from = this.objectName(fromKey);
    const to = this.objectName(toKey);
    try {
      await this.client.copyObject(
        new CopySourceOptions({ Bucket: this.bucket, Object: from }),
        new CopyDestinationOptions({ Bucket: this.bucket, Object: to }),
      );
    } catch (error) {
      throw classifyS3Error(error, 'copy', fromKey);
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; lastModified: Date; size: number }> {
    const stream = this.client.listObjectsV2(this.bucket, this.prefix + prefix, true);
    try {
      for await (const item of stream as AsyncIterable<{ name?: string; lastModified?: Date; size: number }>) {
        if (item.name === undefined) continue;
        yield {
          key: item.name.slice(this.prefix.length),
          lastModified: item.lastModified ?? new Date(0),
          size: item.size,
        };
      }
    } catch (error) {
      throw classifyS3Error(error, 'list');
    } finally {
      stream.destroy();
    }
  }
}
