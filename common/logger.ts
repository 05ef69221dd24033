import pino from 'pino';

/** Field paths that must never reach a log line, whatever object they sit in. */
export const redactedPaths = [
  'password',
  '*.password',
  'credentials',
  '*.credentials',
  'secret',
  '*.secret',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', name = 'switchboard') {
  return pino({ name, level, redact: { paths: redactedPaths, censor: '[redacted]' } });
}

export type Logger = ReturnType<typeof createLogger>;
