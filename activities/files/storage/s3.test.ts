import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { Client } from 'minio';
import { ensureFileServices, startS3, stopS3, testFileServices } from '../../../test/support/file-services.ts';
import { SsrfRefusedError } from '../../http/errors.ts';
import { createGuardedAgents, systemResolve } from '../../http/guarded-agent.ts';
import { parseAllowList } from '../../http/ssrf-guard.ts';
import { type BlobStore, BlobStorePermanentError, BlobStoreUnavailableError } from './blob-store.ts';
import { blobStoreContract } from './blob-store-contract.ts';
import { openBlobStore, type StorageConfig } from './config.ts';
import { PartBuffers } from './part-buffers.ts';
import { S3BlobStore } from './s3.ts';

const { s3 } = testFileServices;
const config = (overrides: Partial<Extract<StorageConfig, { driver: 's3' }>> = {}): StorageConfig => ({
  driver: 's3',
  endpoint: s3.endpoint,
  bucket: s3.bucket,
  pathStyle: true,
  ...overrides,
});
const credentials = { accessKey: s3.accessKey, secretKey: s3.secretKey };
const body = (text: string) => Readable.from([Buffer.from(text)]);

describe('S3 storage driver (MinIO)', function () {
  this.timeout(120_000);
  let store: BlobStore;
  // The server's own view of a multipart upload in flight, through the same client library.
  const admin = () => {
    const url = new URL(s3.endpoint);
    return new Client({
      endPoint: url.hostname,
      port: Number(url.port),
      useSSL: false,
      accessKey: s3.accessKey,
      secretKey: s3.secretKey,
      region: 'us-east-1',
      pathStyle: true,
    });
  };

  before(async function () {
    this.timeout(25 * 60_000); // a cold machine builds MinIO first
    await ensureFileServices();
    store = await openBlobStore(config({ prefix: 'tests/' }), credentials);
  });

  blobStoreContract({
    store: () => store,
    bytesReceivedDuringPut: async (key) => {
      let total = 0;
      for await (const upload of admin().listIncompleteUploads(s3.bucket, `tests/${key}`, true))
        total += (upload as { size: number }).size;
      return total;
    },
  });

  it('keeps keys under the configured prefix', async () => {
    const key = `prefixed/${randomUUID()}`;
    await store.put(key, body('p'));
    const stat = await admin().statObject(s3.bucket, `tests/${key}`);
    assert.equal(stat.size, 1);
  });

  describe('part buffers shared by every upload of the process', () => {
    const MiB = 1024 * 1024;
    const withBuffers = (partBuffers: PartBuffers) =>
      new S3BlobStore({ endpoint: s3.endpoint, bucket: s3.bucket, prefix: 'tests/', ...credentials, partBuffers });
    const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    const inChunks = (bytes: Buffer) => {
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; at += 100_000) chunks.push(bytes.subarray(at, at + 100_000));
      return Readable.from(chunks);
    };

    it('with a single buffer, two 12 MiB uploads at once both complete intact, one part at a time', async () => {
      const partBuffers = new PartBuffers(5 * MiB, 1);
      const store = withBuffers(partBuffers);
      const bodies = [randomBytes(12 * MiB), randomBytes(12 * MiB)];
      const keys = bodies.map(() => `shared-buffers/${randomUUID()}`);
      const puts = await Promise.all(bodies.map((bytes, i) => store.put(keys[i]!, inChunks(bytes))));
      assert.deepEqual(puts, [{ bytes: 12 * MiB }, { bytes: 12 * MiB }]);
      for (const [i, key] of keys.entries()) {
        const stored = createHash('sha256');
        for await (const chunk of await store.get(key)) stored.update(chunk as Buffer);
        assert.equal(stored.digest('hex'), sha256(bodies[i]!));
      }
      assert.equal(partBuffers.created, 1, 'more part buffers were allocated than the limit');
      assert.equal(partBuffers.inUse, 0, 'a part buffer was not given back');
    });

    it('an upload waiting for a buffer stops waiting when its body fails, and leaves nothing', async () => {
      const partBuffers = new PartBuffers(5 * MiB, 1);
      const held = await partBuffers.take(); // every buffer busy, as under load
      const key = `waiting/${randomUUID()}`;
      const body = new Readable({ read() {} });
      const put = withBuffers(partBuffers).put(key, body);
      setTimeout(() => body.destroy(new Error('client went away')), 50);
      await assert.rejects(put, /client went away/);
      partBuffers.give(held);
      assert.equal(partBuffers.inUse, 0);
      assert.equal(await store.size(key), undefined);
    });
  });

  it('wrong credentials and a missing bucket are permanent errors', async () => {
    const wrongKey = await openBlobStore(config(), { accessKey: s3.accessKey, secretKey: 'not-the-secret' });
    await assert.rejects(wrongKey.put('x', body('x')), BlobStorePermanentError);
    await assert.rejects(wrongKey.size('x'), BlobStorePermanentError);
    const unknownUser = await openBlobStore(config(), { accessKey: 'nobody', secretKey: 'nobody-secret' });
    await assert.rejects(unknownUser.get('x'), BlobStorePermanentError);
    const noBucket = await openBlobStore(config({ bucket: 'no-such-bucket-here' }), credentials);
    await assert.rejects(noBucket.put('x', body('x')), BlobStorePermanentError);
    await assert.rejects(noBucket.size('x'), BlobStorePermanentError);
    await assert.rejects(noBucket.get('x'), BlobStorePermanentError);
  });

  it('the server stopped is retryable (BlobStoreUnavailableError); started again, the data is there', async () => {
    const key = `outage/${randomUUID()}`;
    await store.put(key, body('before the outage'));
    await stopS3();
    try {
      await assert.rejects(store.put(`${key}-2`, body('during')), BlobStoreUnavailableError);
      await assert.rejects(store.get(key), BlobStoreUnavailableError);
      await assert.rejects(store.size(key), BlobStoreUnavailableError);
      await assert.rejects(store.delete(key), BlobStoreUnavailableError);
    } finally {
      await startS3();
    }
    assert.equal(await store.size(key), 'before the outage'.length);
  });

  it("an organisation's endpoint through the SSRF-guarded agent may not reach loopback; the deployment's may", async () => {
    const guarded = createGuardedAgents({ allowList: [], resolve: systemResolve });
    const allowed = createGuardedAgents({ allowList: parseAllowList(['127.0.0.0/8']), resolve: systemResolve });
    try {
      const organisation = await openBlobStore(config(), credentials, { agent: guarded.http });
      const error = await organisation.put('guarded', body('x')).then(
        () => assert.fail('the guarded agent let a loopback connection through'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof BlobStorePermanentError, String(error));
      assert.ok(error.cause instanceof SsrfRefusedError, String(error.cause));
      await assert.rejects(organisation.size('guarded'), BlobStorePermanentError);
      // The same agent with loopback allow-listed (as tests configure deployments) connects: it is the agent
      // deciding, not something else failing.
      await (await openBlobStore(config(), credentials, { agent: allowed.http })).put('guarded', body('x'));
      assert.equal(await (await openBlobStore(config(), credentials)).size('guarded'), 1);
    } finally {
      guarded.destroy();
      allowed.destroy();
    }
  });
});
