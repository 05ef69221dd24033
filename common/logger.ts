import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import pino, { type DestinationStream } from 'pino';

/**
 * Keys whose values must never reach a log line, at any depth: matched on the key's name with case, `-` and `_`
 * ignored, by how it ends (`accessToken`, `refresh_token`, `clientSecret`, `x-api-key`, `set-cookie`, …). A fixed
 * list of paths misses the token nested three levels down in an OAuth response or a client's options.
 */
const CREDENTIAL_KEY =
  /(password|passphrase|passwd|secret|secrets|token|tokens|apikey|credential|credentials|authorization|cookie|cookies|keyhash|privatekey)$/;

export function isCredentialKey(key: string): boolean {
  return CREDENTIAL_KEY.test(key.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

const CENSOR = '[redacted]';
/** Deeper than any log object we write; beyond it a value is dropped rather than walked. */
const MAX_DEPTH = 12;

/** A copy of `value` with every credential-like key's value censored, however deep it sits. */
export function redactCredentials(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  // Errors nest too (a cause, an error inside a detail object); JSON.stringify would print their own fields raw.
  if (value instanceof Error) return serializeError(value);
  if (
    value instanceof Date ||
    ArrayBuffer.isView(value) ||
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  )
    return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactCredentials(item, depth + 1, seen));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = isCredentialKey(key) && item !== undefined ? CENSOR : redactCredentials(item, depth + 1, seen);
  }
  return copy;
}

/**
 * Query parameters inside error text: drizzle's "Failed query: <sql>\nparams: <values>" puts user content (comment
 * bodies, e-mail addresses) into the message and the stack. Redaction by key cannot see inside a string, so the
 * error serializer cuts the values out of the text. In a stack they end where the frames (or the next cause) start.
 */
const PARAMS_IN_MESSAGE = /\nparams: [\s\S]*$/;
const PARAMS_IN_STACK = /\nparams: [\s\S]*?(?=\n {4}at |\ncaused by: |$)/g;
const PARAMS_REDACTED = `\nparams: ${CENSOR}`;

export function withoutQueryParams(text: string): string {
  return text.replace(PARAMS_IN_MESSAGE, PARAMS_REDACTED);
}

function messagesOf(error: unknown, seen = new Set<unknown>()): string[] {
  if (!(error instanceof Error) || seen.has(error)) return [];
  seen.add(error);
  return [error.message, ...messagesOf(error.cause, seen)];
}

type SerializedError = Record<string, unknown> & { message?: unknown; stack?: unknown };

function scrubSerializedError(serialized: SerializedError, raw: unknown): SerializedError {
  const copy: SerializedError = {};
  for (const [key, value] of Object.entries(serialized)) {
    // `params` is drizzle's array of the query's values; `raw` is the original error, kept by pino for hooks.
    if (key === 'params' || key === 'raw') continue;
    if (key === 'aggregateErrors' && Array.isArray(value))
      copy[key] = value.map((item) =>
        item && typeof item === 'object' ? scrubSerializedError(item as SerializedError, undefined) : item,
      );
    else copy[key] = value;
  }
  if (typeof copy.message === 'string') copy.message = withoutQueryParams(copy.message);
  if (typeof copy.stack === 'string') {
    let stack = copy.stack;
    // Each message in the chain appears verbatim in the stack: replace it whole, then catch what is left.
    for (const message of messagesOf(raw)) {
      const scrubbed = withoutQueryParams(message);
      if (scrubbed !== message) stack = stack.split(message).join(scrubbed);
    }
    copy.stack = stack.replace(PARAMS_IN_STACK, PARAMS_REDACTED);
  }
  return copy;
}

/** pino's error serializer, then query parameters and credential-like keys taken out. Also used for `error`. */
export function serializeError(value: unknown): unknown {
  if (typeof value === 'string') return withoutQueryParams(value);
  if (!(value instanceof Error)) return redactCredentials(value);
  const serialized = pino.stdSerializers.err(value) as unknown as SerializedError;
  return redactCredentials(scrubSerializedError(serialized, value));
}

export function createLogger(
  level = process.env.LOG_LEVEL ?? 'info',
  name = 'switchboard',
  destination?: DestinationStream,
) {
  const options: pino.LoggerOptions = {
    name,
    level,
    serializers: { err: serializeError, error: serializeError },
    formatters: {
      log: (object) => redactCredentials(object) as Record<string, unknown>,
      bindings: (bindings) => redactCredentials(bindings) as Record<string, unknown>,
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

export type Logger = ReturnType<typeof createLogger>;

const temporalLevels = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/**
 * The Temporal SDK's logger (worker runtime, workflow and activity loggers) writing through ours, so what it logs
 * ("Activity failed" with the error, a workflow's log.warn metadata) goes through the same redaction and error
 * serializer instead of the SDK's console logger, which prints error text as it is.
 */
export function temporalLogger(logger: Logger): TemporalLogger {
  // The SDK's metadata may carry symbol keys (its own bookkeeping); they are not log content.
  const write = (level: LogLevel, message: string, meta?: LogMetadata) =>
    logger[temporalLevels[level]](meta ? Object.fromEntries(Object.entries(meta)) : {}, message);
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
