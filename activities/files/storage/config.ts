// Where an organisation's (or the deployment's) attachments are stored. Split the way integration modules are: a
// config every member may see, and credentials that are sealed and never returned, so the two schemas can be a
// `storage` module's configSchema and credentialsSchema as they are.
import type http from 'node:http';
import type https from 'node:https';
import { z } from '../../../domain/zod.ts';
import { AzureBlobStore } from './azure.ts';
import { type BlobStore, BlobStorePermanentError } from './blob-store.ts';
import { LocalBlobStore } from './local.ts';
import { S3BlobStore } from './s3.ts';

const httpUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine((text) => new URL(text).username === '' && new URL(text).password === '', {
    message: 'credentials belong in the credentials, not in the URL',
  });

/** Prepended to every key: letters, digits and `-_./`, ending in `/`, so deployments or tenants can share a bucket. */
const keyPrefix = z
  .string()
  .max(200)
  .regex(/^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)+$/, 'a prefix is path segments ending in "/", e.g. "switchboard/"');

export const localStorageConfigSchema = z
  .object({
    driver: z.literal('local'),
    /**
     * Directory for the files; the deployment's default (FILES_LOCAL_ROOT, .data/files) when absent. Only the
     * deployment may set it: an organisation choosing a directory on the server's disk would be a hole.
     */
    root: z.string().min(1).max(4096).optional(),
  })
  .strict();

export const s3StorageConfigSchema = z
  .object({
    driver: z.literal('s3'),
    /** http(s)://host[:port], no path: AWS (https://s3.eu-west-1.amazonaws.com), MinIO, other S3-compatible. */
    endpoint: httpUrl.refine((text) => ['', '/'].includes(new URL(text).pathname), {
      message: 'the endpoint has no path; the bucket goes in `bucket`',
    }),
    region: z.string().min(1).max(64).optional(),
    /** S3 bucket naming rules (3-63 lower-case letters, digits, dots and hyphens). */
    bucket: z
      .string()
      .min(3)
      .max(63)
      .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, 'not a valid bucket name'),
    pathStyle: z.boolean().default(true),
    prefix: keyPrefix.optional(),
  })
  .strict();

export const azureStorageConfigSchema = z
  .object({
    driver: z.literal('azure'),
    /** Blob service URL; https://<accountName>.blob.core.windows.net when absent. */
    endpoint: httpUrl.optional(),
    /** Azure container naming rules (3-63 lower-case letters, digits and single hyphens). */
    container: z
      .string()
      .min(3)
      .max(63)
      .regex(/^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$/, 'not a valid container name'),
    prefix: keyPrefix.optional(),
  })
  .strict();

export const storageConfigSchema = z.discriminatedUnion('driver', [
  localStorageConfigSchema,
  s3StorageConfigSchema,
  azureStorageConfigSchema,
]);
export type StorageConfig = z.infer<typeof storageConfigSchema>;

export const s3CredentialsSchema = z
  .object({ accessKey: z.string().min(1).max(256), secretKey: z.string().min(1).max(256) })
  .strict();
export const azureKeyCredentialsSchema = z
  .object({ accountName: z.string().min(3).max(24), accountKey: z.string().min(1).max(256) })
  .strict();
export const azureConnectionStringCredentialsSchema = z
  .object({ connectionString: z.string().min(1).max(4096) })
  .strict();
/** The local driver has no credentials. */
export const noCredentialsSchema = z.object({}).strict();

export const storageCredentialsSchema = z.union([
  s3CredentialsSchema,
  azureKeyCredentialsSchema,
  azureConnectionStringCredentialsSchema,
  noCredentialsSchema,
]);
export type StorageCredentials = z.infer<typeof storageCredentialsSchema>;

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
