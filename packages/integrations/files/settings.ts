// The attachment pipeline's settings (FILES_*, CLAMD_*; documented in the README): the deployment's default store,
// where clamd listens, and the limits an organisation gets unless it has its own (organization_settings).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllowList } from '../../../activities/http/ssrf-guard.ts';
import { commaList, flag, wholeNumber } from '../../../common/env-values.ts';
import { moduleSettings } from '../../../common/integration-settings.ts';

const MB = 1024 * 1024;
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The deployment's default store: used by every organisation without a storage integration of its own. */
export type DefaultStore =
  | { driver: 'local'; root: string }
  | { driver: 's3'; endpoint: string; region: string; bucket: string; accessKey: string; secretKey: string }
  | { driver: 'azure'; endpoint: string; container: string; accountName: string; accountKey: string };

export type FileSettings = {
  defaultStore: DefaultStore;
  clamd: { host: string; port: number; timeoutMs: number };
  limits: {
    /** The largest file an organisation without its own limit may upload. */
    maxFileBytes: number;
    ticketQuotaBytes: number;
    orgQuotaBytes: number;
    /** Files in one multipart request. */
    maxFilesPerRequest: number;
  };
  /** Images declaring more pixels than this are refused before any decoding (decompression bombs). */
  maxImagePixels: number;
  /** How long a signed download link (emails, Slack) stays valid. */
  linkTtlSeconds: number;
  /** Where resumable (tus) uploads collect their parts on the API host before they enter the pipeline. */
  stagingDir: string;
  /**
   * The API scans each upload with clamd as it streams into storage, so the pipeline need not read it back; when
   * clamd is unreachable the pipeline scans instead. Off: the pipeline always scans.
   */
  scanOnUpload: boolean;
  /** Threads that render thumbnails, off the activity worker's event loop. */
  thumbnailThreads: number;
  /**
   * CIDRs an organisation's own storage endpoint may reach although they are private or loopback (none by default:
   * an admin's endpoint must not reach the deployment's internal network).
   */
  allowCidrs: string[];
};

/** Read with `fileSettings.of(config)`. */
export const fileSettings = moduleSettings(
  'storage',
  (env): FileSettings => ({
    defaultStore: defaultStore(env),
    clamd: {
      host: env.CLAMD_HOST ?? '127.0.0.1',
      port: wholeNumber('CLAMD_PORT', env.CLAMD_PORT, 3310, 1),
      timeoutMs: wholeNumber('CLAMD_TIMEOUT_MS', env.CLAMD_TIMEOUT_MS, 60_000, 1),
    },
    limits: {
      maxFileBytes: wholeNumber('FILES_MAX_FILE_BYTES', env.FILES_MAX_FILE_BYTES, 25 * MB, 1),
      ticketQuotaBytes: wholeNumber('FILES_TICKET_QUOTA_BYTES', env.FILES_TICKET_QUOTA_BYTES, 500 * MB, 1),
      orgQuotaBytes: wholeNumber('FILES_ORG_QUOTA_BYTES', env.FILES_ORG_QUOTA_BYTES, 20 * 1024 * MB, 1),
      maxFilesPerRequest: wholeNumber('FILES_MAX_FILES_PER_REQUEST', env.FILES_MAX_FILES_PER_REQUEST, 20, 1),
    },
    maxImagePixels: wholeNumber('FILES_MAX_IMAGE_PIXELS', env.FILES_MAX_IMAGE_PIXELS, 50_000_000, 1),
    linkTtlSeconds: wholeNumber('FILES_LINK_TTL_SECONDS', env.FILES_LINK_TTL_SECONDS, 300, 1),
    stagingDir: path.resolve(repoRoot, env.FILES_STAGING_DIR ?? '.data/uploads'),
    scanOnUpload:
      env.FILES_SCAN_ON_UPLOAD === undefined ? true : flag('FILES_SCAN_ON_UPLOAD', env.FILES_SCAN_ON_UPLOAD),
    thumbnailThreads: wholeNumber('FILES_THUMBNAIL_THREADS', env.FILES_THUMBNAIL_THREADS, 1, 1),
    allowCidrs: allowList(env.FILES_STORAGE_ALLOW_CIDRS),
  }),
);

function defaultStore(env: NodeJS.ProcessEnv): DefaultStore {
  const driver = env.FILES_STORAGE_DRIVER ?? 'local';
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is required when FILES_STORAGE_DRIVER=${driver}`);
    return value;
  };
  switch (driver) {
    case 'local':
      return { driver, root: path.resolve(repoRoot, env.FILES_LOCAL_ROOT ?? '.data/files') };
    case 's3':
      return {
        driver,
        endpoint: required('FILES_S3_ENDPOINT'),
        region: env.FILES_S3_REGION ?? 'us-east-1',
        bucket: required('FILES_S3_BUCKET'),
        accessKey: required('FILES_S3_ACCESS_KEY'),
        secretKey: required('FILES_S3_SECRET_KEY'),
      };
    case 'azure':
      return {
        driver,
        endpoint: required('FILES_AZURE_ENDPOINT'),
        container: required('FILES_AZURE_CONTAINER'),
        accountName: required('FILES_AZURE_ACCOUNT_NAME'),
        accountKey: required('FILES_AZURE_ACCOUNT_KEY'),
      };
    default:
      throw new Error(`FILES_STORAGE_DRIVER must be local, s3 or azure, got "${driver}"`);
  }
}

function allowList(value: string | undefined): string[] {
  const cidrs = commaList(value);
  try {
    parseAllowList(cidrs);
  } catch (error) {
    throw new Error(`FILES_STORAGE_ALLOW_CIDRS: ${error instanceof Error ? error.message : String(error)}`);
  }
  return cidrs;
}
