// Fixed keys and flags for tests, set before any module reads the environment.
// (Real deployments get theirs from .env or the process environment; these are test-only values.)
const testDefaults: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  BETTER_AUTH_SECRET: 'test-secret-test-secret-test-secret-0123',
  SWITCHBOARD_MASTER_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
  SWITCHBOARD_CODEC_KEYS: `c1:${Buffer.alloc(32, 2).toString('base64')}`,
  SWITCHBOARD_VALIDATE_RESPONSES: '1',
  // The test receivers listen on loopback over plain http.
  SWITCHBOARD_WEBHOOK_ALLOW_HTTP: '1',
  SWITCHBOARD_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8,::1/128',
  // Attachments: the test clamd (scripts/file-services.sh on its test port), a store and staging area of the run's
  // own, and organisations' storage endpoints on loopback (the test S3 and Azurite servers).
  CLAMD_PORT: process.env.TEST_CLAMD_PORT ?? '3320',
  FILES_LOCAL_ROOT: '.data/test-files',
  FILES_STAGING_DIR: '.data/test-uploads',
  FILES_STORAGE_ALLOW_CIDRS: '127.0.0.0/8,::1/128',
  // Email: the test mail servers (scripts/mail-services.sh) listen on loopback without TLS, and the test dnsmasq
  // answers the authentication checks' lookups.
  EMAIL_ALLOW_CIDRS: '127.0.0.0/8,::1/128',
  EMAIL_ALLOW_INSECURE: '1',
  EMAIL_DNS_SERVERS: `127.0.0.1:${process.env.TEST_DNS_PORT ?? '5310'}`,
  EMAIL_IDLE_SECONDS: '20',
};
for (const [name, value] of Object.entries(testDefaults)) process.env[name] ??= value;
