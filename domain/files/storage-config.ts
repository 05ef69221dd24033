// What an organisation's storage integration stores: where (config, visible to every member) and with which keys
// (credentials, sealed). The endpoint is an admin's input: it is reached through the SSRF-guarded agents, and
// must be https unless the deployment allows otherwise (FILES_STORAGE_ALLOW_CIDRS for private addresses).
import { z } from '../zod.ts';

const endpoint = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(2000)
  .refine((url) => {
    const parsed = URL.parse(url);
    return !parsed?.username && !parsed?.password;
  }, 'must not contain a user name or password: put secrets in credentials');
const prefix = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9!_.*'()/-]*$/, 'letters, digits and !_.*\'()/- only')
  .refine((value) => !value.split('/').includes('..'), 'must not contain ".."')
  .optional();

export const storageConfigSchema = z.discriminatedUnion('driver', [
  z
    .object({
      driver: z.literal('s3'),
      /** The S3 API's base URL (https://s3.eu-west-1.amazonaws.com, a MinIO or SeaweedFS server, …). */
      endpoint,
      region: z.string().min(1).max(50).default('us-east-1'),
      bucket: z.string().min(3).max(63),
      /** Path-style addressing (most self-hosted servers); false for virtual-hosted buckets. */
      pathStyle: z.boolean().default(true),
      prefix,
    })
    .strict(),
  z
    .object({
      driver: z.literal('azure'),
      /** The blob service URL (https://<account>.blob.core.windows.net, or Azurite's). */
      endpoint,
      container: z.string().min(3).max(63),
      prefix,
    })
    .strict(),
]);
export type StorageConfig = z.infer<typeof storageConfigSchema>;

export const storageCredentialsSchema = z.union([
  z.object({ accessKey: z.string().min(1).max(200), secretKey: z.string().min(1).max(500) }).strict(),
  z.object({ accountName: z.string().min(1).max(200), accountKey: z.string().min(1).max(500) }).strict(),
]);
export type StorageCredentials = z.infer<typeof storageCredentialsSchema>;
