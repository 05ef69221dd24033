// S3-compatible driver through the `minio` client (MinIO, AWS S3, and others that speak the S3 API).
//
// Puts: a body under one part (5 MiB, the S3 minimum) goes up in a single PUT; a longer one as a multipart upload
// in 5 MiB parts that the driver drives itself, holding two parts (~10 MiB) at most however large the file. The
// client's own putObject would not do: for a body of unknown length it picks parts of over 500 MiB and buffers
// each, and it never settles when the body fails.
import { createHash } from 'node:crypto';
import type http from 'node:http';
import type https from 'node:https';
import type { Readable } from 'node:stream';
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
  peekBody,
} from './blob-store.ts';

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
  partSize?: number;
};

const MIN_PART_SIZE = 5 * 1024 * 1024;

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

/** Buffers of exactly `size` bytes (the last one shorter) from a stream of chunks. */
async function* partsOf(chunks: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of chunks) {
    let rest = chunk;
    while (pendingBytes + rest.length >= size) {
      const take = size - pendingBytes;
      pending.push(rest.subarray(0, take));
      yield Buffer.concat(pending, size);
      rest = rest.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (rest.length > 0) {
      pending.push(rest);
      pendingBytes += rest.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

export class S3BlobStore implements BlobStore {
  readonly driver = 's3' as const;
  private readonly client: Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;

  constructor(options: S3StoreOptions) {
    const url = new URL(options.endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new BlobStorePermanentError(`S3 endpoint must be http(s), not ${url.protocol}`);
    if (url.pathname !== '/' && url.pathname !== '')
      throw new BlobStorePermanentError('S3 endpoint must not have a path; the bucket goes in `bucket`');
    const useSSL = url.protocol === 'https:';
    this.partSize = Math.max(options.partSize ?? MIN_PART_SIZE, MIN_PART_SIZE);
    this.client = new Client({
      endPoint: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port === '' ? (useSSL ? 443 : 80) : Number(url.port),
      useSSL,
      accessKey: options.accessKey,
      secretKey: options.secretKey,
      // A region given up front spares the client a GetBucketLocation round trip before the first request.
      region: options.region ?? 'us-east-1',
      pathStyle: options.pathStyle ?? true,
      partSize: this.partSize,
      ...(options.agent ? { transportAgent: options.agent as http.Agent } : {}),
    });
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? '';
  }

  private objectName(key: string): string {
    checkKey(key);
    return this.prefix + key;
  }

  async put(key: string, body: Readable): Promise<{ bytes: number }> {
    const name = this.objectName(key);
    let uploadId: string | undefined;
    try {
      // A body that fits in one part goes up in one PUT with its length (also the only way to store an empty
      // object: a multipart upload needs at least one part). A longer one streams as a multipart upload.
      const peeked = await peekBody(body, this.partSize);
      if (peeked.ended) {
        const head = peeked.head();
        await this.client.putObject(this.bucket, name, head, head.length);
        return { bytes: head.length };
      }
      // The multipart upload is driven here rather than by putObject: putObject never notices a body that fails
      // (it waits for its end forever), and it would resume an earlier failed upload of the same key.
      uploadId = await this.client.initiateNewMultipartUpload(this.bucket, name, {});
      const etags: Array<{ part: number; etag: string }> = [];
      let partNumber = 0;
      // One part uploads while the next is read: two parts in memory at most.
      let inFlight: Promise<void> | undefined;
      for await (const part of partsOf(peeked.rest(), this.partSize)) {
        await inFlight;
        const number = ++partNumber;
        inFlight = this.client
          .uploadPart(
            {
              bucketName: this.bucket,
              objectName: name,
              uploadID: uploadId,
              partNumber: number,
              headers: {
                'Content-Length': part.length,
                'Content-MD5': createHash('md5').update(part).digest('base64'),
              },
            },
            part,
          )
          .then(({ etag }) => void etags.push({ part: number, etag }));
        inFlight.catch(() => {}); // awaited on the next turn or after the loop; a failing body must not leave it unhandled
      }
      await inFlight;
      etags.sort((a, b) => a.part - b.part);
      await this.client.completeMultipartUpload(this.bucket, name, uploadId, etags);
      return { bytes: peeked.bytes() };
    } catch (error) {
      body.destroy();
      // Parts of an aborted upload would stay on the server, invisible to list and still billed. If the server is
      // down the abort fails too: that is what a bucket lifecycle rule (AbortIncompleteMultipartUpload) is for.
      if (uploadId) await this.client.abortMultipartUpload(this.bucket, name, uploadId).catch(() => {});
      // A body that failed (the upload broke) is the caller's error, passed on as it is.
      if (body.errored) throw body.errored;
      throw classifyS3Error(error, 'put');
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
