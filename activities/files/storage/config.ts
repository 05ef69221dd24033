// Opens a store: the deployment's default or an organisation's (schemas in domain/files/storage-config.ts).
import type http from 'node:http';
import type https from 'node:https';
import {
  azureConnectionStringCredentialsSchema,
  azureKeyCredentialsSchema,
  type StorageConfig,
  type StorageCredentials,
  s3CredentialsSchema,
} from '../../../domain/files/storage-config.ts';
import { AzureBlobStore } from './azure.ts';
import { type BlobStore, BlobStorePermanentError } from './blob-store.ts';
import { LocalBlobStore } from './local.ts';
import { S3BlobStore } from './s3.ts';

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
export function openBlobStore(
  config: StorageConfig,
  credentials: StorageCredentials | undefined,
  options: OpenBlobStoreOptions = {},
): BlobStore {
  switch (config.driver) {
    case 'local': {
      const root = config.root ?? options.defaultLocalRoot;
      if (root === undefined) throw new BlobStorePermanentError('local storage needs a root directory');
      return new LocalBlobStore(root);
    }
    case 's3': {
      const parsed = s3CredentialsSchema.safeParse(credentials);
      if (!parsed.success) throw new BlobStorePermanentError('S3 storage needs credentials { accessKey, secretKey }');
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
