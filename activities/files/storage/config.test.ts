import assert from 'node:assert/strict';
import { BlobStorePermanentError } from './blob-store.ts';
import { openBlobStore, storageConfigSchema, storageCredentialsSchema } from './config.ts';

describe('storage configuration', () => {
  it('parses each driver, S3 defaulting to path-style URLs', () => {
    assert.deepEqual(storageConfigSchema.parse({ driver: 'local' }), { driver: 'local' });
    assert.deepEqual(
      storageConfigSchema.parse({ driver: 's3', endpoint: 'https://s3.eu-west-1.amazonaws.com', bucket: 'acme-files' }),
      { driver: 's3', endpoint: 'https://s3.eu-west-1.amazonaws.com', bucket: 'acme-files', pathStyle: true },
    );
    assert.equal(
      storageConfigSchema.parse({ driver: 'azure', container: 'acme-files', prefix: 'switchboard/' }).driver,
      'azure',
    );
  });

  it('refuses endpoints with a path, credentials or another scheme, and invalid bucket, container or prefix', () => {
    const bad = [
      { driver: 's3', endpoint: 'http://127.0.0.1:9000/bucket', bucket: 'acme' },
      { driver: 's3', endpoint: 'https://key:secret@s3.example.com', bucket: 'acme' },
      { driver: 's3', endpoint: 'ftp://s3.example.com', bucket: 'acme' },
      { driver: 's3', endpoint: 'https://s3.example.com', bucket: 'Upper_Case' },
      { driver: 's3', endpoint: 'https://s3.example.com', bucket: 'acme', prefix: '../escape/' },
      { driver: 's3', endpoint: 'https://s3.example.com', bucket: 'acme', secretKey: 'belongs in credentials' },
      { driver: 'azure', container: 'double--hyphen' },
      { driver: 'azure', container: 'acme', prefix: 'no-trailing-slash' },
      { driver: 'gcs', bucket: 'acme' },
    ];
    for (const config of bad)
      assert.equal(storageConfigSchema.safeParse(config).success, false, JSON.stringify(config));
  });

  it('credentials are one of the known shapes and nothing else', () => {
    assert.ok(storageCredentialsSchema.safeParse({ accessKey: 'a', secretKey: 'b' }).success);
    assert.ok(storageCredentialsSchema.safeParse({ accountName: 'acme', accountKey: 'k' }).success);
    assert.ok(storageCredentialsSchema.safeParse({ connectionString: 'DefaultEndpointsProtocol=https;...' }).success);
    assert.ok(storageCredentialsSchema.safeParse({}).success);
    assert.equal(storageCredentialsSchema.safeParse({ accessKey: 'a' }).success, false);
    assert.equal(storageCredentialsSchema.safeParse({ token: 'x' }).success, false);
  });

  it('a driver without its kind of credentials is a permanent error', async () => {
    const s3 = storageConfigSchema.parse({ driver: 's3', endpoint: 'https://s3.example.com', bucket: 'acme' });
    const azure = storageConfigSchema.parse({ driver: 'azure', container: 'acme' });
    await assert.rejects(openBlobStore(s3, { accountName: 'acme', accountKey: 'k' }), BlobStorePermanentError);
    await assert.rejects(openBlobStore(azure, { accessKey: 'a', secretKey: 'b' }), BlobStorePermanentError);
    await assert.rejects(openBlobStore({ driver: 'local' }, undefined), BlobStorePermanentError);
    assert.equal((await openBlobStore({ driver: 'local' }, undefined, { defaultLocalRoot: '/tmp/x' })).driver, 'local');
  });
});
