// The attachment pipeline's servers for tests: clamd, the S3 server (MinIO) and Azurite, started once per process
// through scripts/file-services.sh on ports of their own, so a developer's servers on the default ports (and
// their data) are never touched. They stay up after the run; the next run finds them and starts in no time.
//
//   TEST_CLAMD_PORT          [3320]   clamd (INSTREAM over TCP)
//   TEST_S3_PORT             [8343]   MinIO, bucket TEST_S3_BUCKET [switchboard-test]
//   TEST_AZURITE_BLOB_PORT   [10010]  Azurite's blob service, container TEST_AZURE_CONTAINER [switchboard-test]
// Two checkouts running their tests at the same time need different ports: the script refuses a port held by a
// server it did not start.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

const HOST = '127.0.0.1';
const clamdPort = Number(process.env.TEST_CLAMD_PORT ?? 3320);
const s3Port = Number(process.env.TEST_S3_PORT ?? 8343);
const azuritePort = Number(process.env.TEST_AZURITE_BLOB_PORT ?? 10010);

/** Azurite's published development account: not a secret. */
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export const testFileServices = {
  clamd: { host: HOST, port: clamdPort, timeoutMs: 10_000 },
  s3: {
    endpoint: `http://${HOST}:${s3Port}`,
    bucket: process.env.TEST_S3_BUCKET ?? 'switchboard-test',
    accessKey: 'switchboard-test',
    secretKey: 'switchboard-test-secret',
  },
  azure: {
    endpoint: `http://${HOST}:${azuritePort}/${AZURITE_ACCOUNT}`,
    container: process.env.TEST_AZURE_CONTAINER ?? 'switchboard-test',
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_KEY,
  },
} as const;

type Service = 'clamd' | 's3' | 'azurite';

function scriptEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CLAMD_HOST: HOST,
    CLAMD_PORT: String(clamdPort),
    S3_HOST: HOST,
    S3_PORT: String(s3Port),
    S3_ACCESS_KEY: testFileServices.s3.accessKey,
    S3_SECRET_KEY: testFileServices.s3.secretKey,
    S3_BUCKET: testFileServices.s3.bucket,
    AZURITE_HOST: HOST,
    AZURITE_BLOB_PORT: String(azuritePort),
  };
}

async function script(command: 'start' | 'stop', services: Service[]): Promise<void> {
  try {
    // The first start may install clamav-daemon and Azurite and build MinIO (minutes); later ones take a second.
    await run('bash', [`${ROOT}scripts/file-services.sh`, command, ...services], {
      env: scriptEnv(),
      timeout: 20 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`scripts/file-services.sh ${command} ${services.join(' ')} failed:\n${stderr ?? error}`);
  }
}

let started: Promise<void> | undefined;

/** Starts clamd, MinIO and Azurite for this process (once) and creates the Azure test container. */
export function ensureFileServices(): Promise<typeof testFileServices> {
  started ??= (async () => {
    await script('start', ['clamd', 's3', 'azurite']);
    const { endpoint, accountName, accountKey, container } = testFileServices.azure;
    const service = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(accountName, accountKey));
    await service.getContainerClient(container).createIfNotExists();
  })();
  return started.then(() => testFileServices);
}

/** Stops clamd (the outage a test wants) and waits until it is gone. */
export const stopClamd = () => script('stop', ['clamd']);
/** Starts clamd again and waits until it answers PING. */
export const startClamd = () => script('start', ['clamd']);
/** Stops the S3 server; its data stays. */
export const stopS3 = () => script('stop', ['s3']);
/** Starts the S3 server again on the same data and waits until it answers. */
export const startS3 = () => script('start', ['s3']);
export const stopAzurite = () => script('stop', ['azurite']);
export const startAzurite = () => script('start', ['azurite']);
