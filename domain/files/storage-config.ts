// What a store is, as configured: the deployment's default (any driver) or an organisation's storage integration
// (S3 or Azure only: a directory on the server's disk is the deployment's to choose). Split the way integration
// modules are: a config every member may see, and credentials that are sealed and never returned. Plain data, so the
// module's definition can use it without loading the drivers (activities/files/storage/config.ts opens them).
import { z } from '../zod.ts';

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

/** What an organisation's `storage` integration may say: its own bucket or container, never a local directory. */
export const organizationStorageConfigSchema = z.discriminatedUnion('driver', [
  s3StorageConfigSchema,
  azureStorageConfigSchema,
]);
export const organizationStorageCredentialsSchema = z.union([
  s3CredentialsSchema,
  azureKeyCredentialsSchema,
  azureConnectionStringCredentialsSchema,
]);
