// Opens a store: the deployment's default or an organisation's (schemas in domain/files/storage-config.ts).
import type http from 'node:http';
import type https from 'node:https';
import { onFirstUse } from '../../../common/lazy-module.ts';
import {
  azureConnectionStringCredentialsSchema,
  azureKeyCredentialsSchema,
  type StorageConfig,
  type StorageCredentials,
  s3CredentialsSchema,
} from '../../../domain/files/storage-config.ts';
import { type BlobStore, BlobStorePermanentError } from './blob-store.ts';
import { LocalBlobStore } from './local.ts';

// The S3 and Azure drivers (and their SDKs, minio and @azure/storage-blob) are loaded by the first store of their
// kind that is opened, not when the API starts: the default store is opened by the first upload, and most
// deployments never open an Azure one (common/lazy-module.ts).
const loadS3 = onFirstUse(() => import('./s3.ts'));
const loadAzure = onFirstUse(() => import('./azure.ts'));

export type OpenBlobStoreOptions = {
  /**
   * The agent every connection goes through. Pass the SSRF-guarded agent (activities/http/guarded-agent.ts) for
   * endpoints an organisation supplied; leave it out for the deployment's own default storage.
   */
  agent?: http.Agent | https.Agent;
  /** The local driver's root when the config names none. */
  defaultLocalRoot?: string;
};

/** A BlobStore for a parsed config and its credentials; a driver/credentials mismatch is a permanent error. */
export async function openBlobStore(
  config: StorageConfig,
  credentials: StorageCredentials | undefined,
  options: OpenBlobStoreOptions = {},
): Promise<BlobStore> {
  switch (config.driver) {
    case 'local': {
      const root = config.root ?? options.defaultLocalRoot;
      if (root === undefined) throw new BlobStorePermanentError('local storage needs a root directory');
      return new LocalBlobStore(root);
    }
    case 's3': {
      const parsed = s3CredentialsSchema.safeParse(credentials);
      if (!parsed.success) throw new BlobStorePermanentError('S3 storage needs credentials { accessKey, secretKey }');
      const { S3BlobStore } = await loadS3();
      return new S3BlobStore({
        endpoint: config.endpoint,
        bucket: config.bucket,
        pathStyle: config.pathStyle,
        ...(config.region === undefined ? {} : { region: config.region }),
        ...(config.prefix === undefined ? {} : { prefix: config.prefix }),
        ...parsed.data,
        ...(options.agent ? { agent: options.agent } : {}),
      });
    }
    case 'azure': {
      const key = azureKeyCredentialsSchema.safeParse(credentials);
      const connection = azureConnectionStringCredentialsSchema.safeParse(credentials);
      if (!key.success && !connection.success)
        throw new BlobStorePermanentError(
          'Azure storage needs credentials { accountName, accountKey } or { connectionString }',
        );
      const { AzureBlobStore } = await loadAzure();
      return new AzureBlobStore({
        container: config.container,
        ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
        ...(config.prefix === undefined ? {} : { prefix: config.prefix }),
        credentials: key.success ? key.data : (connection.data as { connectionString: string }),
        ...(options.agent ? { agent: options.agent } : {}),
      });
    }
  }
}

export {
  azureConnectionStringCredentialsSchema,
  azureKeyCredentialsSchema,
  azureStorageConfigSchema,
  localStorageConfigSchema,
  noCredentialsSchema,
  type StorageConfig,
  type StorageCredentials,
  s3CredentialsSchema,
  s3StorageConfigSchema,
  storageConfigSchema,
  storageCredentialsSchema,
} from '../../../domain/files/storage-config.ts';
