import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import {
  ensureFileServices,
  startAzurite,
  stopAzurite,
  testFileServices,
} from '../../../test/support/file-services.ts';
import { SsrfRefusedError } from '../../http/errors.ts';
import { createGuardedAgents, systemResolve } from '../../http/guarded-agent.ts';
import { parseAllowList } from '../../http/ssrf-guard.ts';
import { type BlobStore, BlobStorePermanentError, BlobStoreUnavailableError } from './blob-store.ts';
import { blobStoreContract } from './blob-store-contract.ts';
import { openBlobStore, type StorageConfig } from './config.ts';

const { azure } = testFileServices;
const config = (overrides: Partial<Extract<StorageConfig, { driver: 'azure' }>> = {}): StorageConfig => ({
  driver: 'azure',
  endpoint: azure.endpoint,
  container: azure.container,
  ...overrides,
});
const credentials = { accountName: azure.accountName, accountKey: azure.accountKey };
const body = (text: string) => Readable.from([Buffer.from(text)]);

describe('Azure Blob storage driver (Azurite)', function () {
  this.timeout(120_000);
  let store: BlobStore;
  const container = () =>
    new BlobServiceClient(
      azure.endpoint,
      new StorageSharedKeyCredential(azure.accountName, azure.accountKey),
    ).getContainerClient(azure.container);

  before(async function () {
    this.timeout(25 * 60_000);
    await ensureFileServices();
    store = await openBlobStore(config({ prefix: 'tests/' }), credentials);
  });

  blobStoreContract({
    store: () => store,
    // Blocks staged and not yet committed: what uploadStream has sent so far.
    bytesReceivedDuringPut: async (key) => {
      try {
        const list = await container().getBlockBlobClient(`tests/${key}`).getBlockList('uncommitted');
        return (list.uncommittedBlocks ?? []).reduce((sum, block) => sum + block.size, 0);
      } catch {
        return 0;
      }
    },
  });

  it('accepts a connection string instead of account name and key', async () => {
    const connectionString = `DefaultEndpointsProtocol=http;AccountName=${azure.accountName};AccountKey=${azure.accountKey};BlobEndpoint=${azure.endpoint};`;
    const viaConnectionString = await openBlobStore(
      { driver: 'azure', container: azure.container },
      { connectionString },
    );
    const key = `connection-string/${randomUUID()}`;
    await viaConnectionString.put(key, body('cs'));
    assert.equal(await store.size(`../${key}`.slice(3)), undefined); // the prefixed store does not see it
    assert.equal(await viaConnectionString.size(key), 2);
  });

  it('a wrong key and a missing container are permanent errors', async () => {
    const wrongKey = await openBlobStore(config(), {
      accountName: azure.accountName,
      accountKey: Buffer.alloc(64, 7).toString('base64'),
    });
    await assert.rejects(wrongKey.put('x', body('x')), BlobStorePermanentError);
    await assert.rejects(wrongKey.get('x'), BlobStorePermanentError);
    await assert.rejects(wrongKey.size('x'), BlobStorePermanentError);
    const noContainer = await openBlobStore(config({ container: 'no-such-container' }), credentials);
    await assert.rejects(noContainer.put('x', body('x')), BlobStorePermanentError);
    await assert.rejects(noContainer.get('x'), BlobStorePermanentError);
    await assert.rejects(noContainer.size('x'), BlobStorePermanentError);
  });

  it('the server stopped is retryable (BlobStoreUnavailableError); started again, the data is there', async () => {
    const key = `outage/${randomUUID()}`;
    await store.put(key, body('before the outage'));
    await stopAzurite();
    try {
      await assert.rejects(store.put(`${key}-2`, body('during')), BlobStoreUnavailableError);
      await assert.rejects(store.get(key), BlobStoreUnavailableError);
      await assert.rejects(store.size(key), BlobStoreUnavailableError);
    } finally {
      await startAzurite();
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
      const causes: unknown[] = [];
      for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) causes.push(e);
      assert.ok(
        causes.some((e) => e instanceof SsrfRefusedError || /refused: 127\.0\.0\.1 is a loopback/.test(String(e))),
        String(error),
      );
      await (await openBlobStore(config(), credentials, { agent: allowed.http })).put('guarded', body('x'));
      assert.equal(await (await openBlobStore(config(), credentials)).size('guarded'), 1);
    } finally {
      guarded.destroy();
      allowed.destroy();
    }
  });
});
