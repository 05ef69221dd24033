// Azure Blob driver through @azure/storage-blob (tested against Azurite).
import type http from 'node:http';
import type https from 'node:https';
import { Readable } from 'node:stream';
import {
  BlobServiceClient,
  type ContainerClient,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
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

export type AzureStoreOptions = {
  /** Blob service URL (https://<account>.blob.core.windows.net, or Azurite's http://127.0.0.1:10000/<account>). */
  endpoint?: string;
  container: string;
  /** Prepended to every blob name, so several deployments can share a container. */
  prefix?: string;
  credentials: { accountName: string; accountKey: string } | { connectionString: string };
  /** Used for every connection; the organisation-supplied endpoints get the SSRF-guarded agent. */
  agent?: http.Agent | https.Agent;
  /** Attempts per call inside the SDK; the workflow retries on top, so few and quick. */
  maxTries?: number;
};

/** uploadStream holds bufferSize × concurrency bytes at most: 8 MiB per put. */
const UPLOAD_BUFFER_SIZE = 4 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 2;

export function classifyAzureError(error: unknown, action: string, key?: string): Error {
  if (error instanceof BlobNotFoundError || error instanceof BlobStorePermanentError) return error;
  if (error instanceof BlobStoreUnavailableError) return error;
  const { statusCode } = error as { statusCode?: unknown };
  // HEAD answers carry the error code only in a header, which the SDK puts in details.errorCode.
  const code =
    (error as { code?: unknown }).code ?? (error as { details?: { errorCode?: unknown } }).details?.errorCode;
  if (key !== undefined && code === 'BlobNotFound') return new BlobNotFoundError(`no blob at ${key}`, { cause: error });
  const message = `Azure Blob: ${action} failed (${describe(error)})`;
  const status = typeof statusCode === 'number' ? statusCode : undefined;
  // No status at all means no HTTP answer: the request never got through (refused, reset, timed out).
  if (
    isTransientNetworkError(error) ||
    (status === undefined && (code === 'REQUEST_SEND_ERROR' || (error as Error).name === 'AbortError')) ||
    (status !== undefined && (status >= 500 || status === 408 || status === 429))
  )
    return new BlobStoreUnavailableError(message, { cause: error });
  return new BlobStorePermanentError(message, { cause: error });
}

export class AzureBlobStore implements BlobStore {
  readonly driver = 'azure' as const;
  private readonly container: ContainerClient;
  private readonly prefix: string;

  constructor(options: AzureStoreOptions) {
    const pipelineOptions = {
      retryOptions: { maxTries: options.maxTries ?? 2, retryDelayInMs: 200, maxRetryDelayInMs: 2000 },
      // Not in StoragePipelineOptions' type, but passed on to core-rest-pipeline's agent policy, which sets it on
      // every request (azure.test.ts proves the guarded agent is really used).
      ...(options.agent ? { agent: options.agent } : {}),
    } as StoragePipelineOptions;
    let service: BlobServiceClient;
    if ('connectionString' in options.credentials) {
      service = BlobServiceClient.fromConnectionString(options.credentials.connectionString, pipelineOptions);
    } else {
      const { accountName, accountKey } = options.credentials;
      const endpoint = options.endpoint ?? `https://${accountName}.blob.core.windows.net`;
      service = new BlobServiceClient(
        endpoint,
        new StorageSharedKeyCredential(accountName, accountKey),
        pipelineOptions,
      );
    }
    this.container = service.getContainerClient(options.container);
    this.prefix = options.prefix ?? '';
  }

  private blobName(key: string): string {
    checkKey(key);
    return this.prefix + key;
  }

  async put(key: string, body: Readable): Promise<{ bytes: number }> {
    const blob = this.container.getBlockBlobClient(this.blobName(key));
    try {
      // A body that fits in one buffer goes up in one request (Put Blob); a longer one is staged block by block and
      // committed at the end. Blocks staged by a failed upload stay uncommitted: never visible, and the service
      // drops them after a week.
      const peeked = await peekBody(body, UPLOAD_BUFFER_SIZE);
      if (peeked.ended) {
        const head = peeked.head();
        await blob.upload(head, head.length);
        return { bytes: head.length };
      }
      await blob.uploadStream(
        Readable.from(peeked.rest(), { objectMode: false }),
        UPLOAD_BUFFER_SIZE,
        UPLOAD_CONCURRENCY,
      );
      return { bytes: peeked.bytes() };
    } catch (error) {
      body.destroy();
      // A body that failed (the upload broke) is the caller's error, passed on as it is.
      if (body.errored) throw body.errored;
      throw classifyAzureError(error, 'put');
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const blob = this.container.getBlobClient(this.blobName(key));
    try {
      if (range) checkRange(range);
      const response = range ? await blob.download(range.start, range.end - range.start + 1) : await blob.download();
      const body = response.readableStreamBody;
      if (!body) throw new BlobStorePermanentError('Azure Blob: download returned no body');
      return body as Readable;
    } catch (error) {
      throw classifyAzureError(error, 'get', key);
    }
  }

  async size(key: string): Promise<number | undefined> {
    const blob = this.container.getBlobClient(this.blobName(key));
    try {
      return (await blob.getProperties()).contentLength ?? 0;
    } catch (error) {
      const classified = classifyAzureError(error, 'size', key);
      if (classified instanceof BlobNotFoundError) return undefined;
      throw classified;
    }
  }

  async delete(key: string): Promise<void> {
    const blob = this.container.getBlobClient(this.blobName(key));
    try {
      await blob.deleteIfExists({ deleteSnapshots: 'include' });
    } catch (error) {
      throw classifyAzureError(error, 'delete');
    }
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const source = this.container.getBlobClient(this.blobName(fromKey));
    const target = this.container.getBlobClient(this.blobName(toKey));
    try {
      // Within one account the copy is authorised by our own credential and completes on the server, usually
      // before the first poll. (syncCopyFromURL would need a SAS on the source.)
      const poller = await target.beginCopyFromURL(source.url, { intervalInMs: 200 });
      await poller.pollUntilDone();
    } catch (error) {
      // A missing source comes back as CannotVerifyCopySource (404) from the service.
      const status = (error as { statusCode?: unknown }).statusCode;
      if (status === 404 && (error as { code?: unknown }).code === 'CannotVerifyCopySource')
        throw new BlobNotFoundError(`no blob at ${fromKey}`, { cause: error });
      throw classifyAzureError(error, 'copy', fromKey);
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; lastModified: Date; size: number }> {
    try {
      for await (const item of this.container.listBlobsFlat({ prefix: this.prefix + prefix })) {
        yield {
          key: item.name.slice(this.prefix.length),
          lastModified: item.properties.lastModified,
          size: item.properties.contentLength ?? 0,
        };
      }
    } catch (error) {
      throw classifyAzureError(error, 'list');
    }
  }
}
