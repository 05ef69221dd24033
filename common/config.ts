// The core's settings: what every process (API, worker, relay, scripts) reads from the environment, whatever
// integrations it serves. It names no integration: each module reads its own variables
// (packages/integrations/<type>/settings.ts), and packages/integrations composes them with these
// (loadServiceConfig) for the processes that serve the modules.
import { DEFAULT_DATABASE_URL } from '@switchboard/database';
import { wholeNumber } from './env-values.ts';

function required(name: string, fallback?: string): string {
  const value = process.env[name] ?? fallback;
  if (value === undefined || value === '') throw new Error(`environment variable ${name} is required`);
  return value;
}

export type KeyRing = { activeKeyId: string; keys: Map<string, Buffer> };

/** Parses "kid1:base64key,kid2:base64key"; the active key is SWITCHBOARD_*_ACTIVE_KEY_ID or the last one listed. */
export function parseKeyRing(spec: string, activeKeyId: string | undefined, what: string): KeyRing {
  const keys = new Map<string, Buffer>();
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = part.indexOf(':');
    if (at <= 0) throw new Error(`${what}: entry "${part.slice(0, 8)}…" must be "keyId:base64key"`);
    const id = part.slice(0, at);
    const key = Buffer.from(part.slice(at + 1), 'base64');
    if (key.length !== 32) throw new Error(`${what}: key ${id} must be 32 bytes (base64), got ${key.length}`);
    keys.set(id, key);
  }
  const ids = [...keys.keys()];
  const active = activeKeyId ?? ids.at(-1);
  if (!active || !keys.has(active))
    throw new Error(`${what}: active key id ${active ?? '(none)'} is not in the key ring`);
  return { activeKeyId: active, keys };
}

/** Who a client is and how often it may try to sign in (api/auth). */
export function authConfig(env: NodeJS.ProcessEnv) {
  return {
    /**
     * How many reverse proxies in front of the API append the client's address to X-Forwarded-For (Express's
     * `trust proxy` hop count). 0, the default, trusts none: the client is the socket's peer and any
     * X-Forwarded-For a client sends is ignored.
     */
    trustProxy: wholeNumber('TRUST_PROXY', env.TRUST_PROXY, 0),
    /** Sign-in attempts per client address per window (better-auth's rate limiter). */
    signInPerAddress: {
      windowSeconds: wholeNumber('SIGN_IN_RATE_LIMIT_WINDOW', env.SIGN_IN_RATE_LIMIT_WINDOW, 60),
      max: wholeNumber('SIGN_IN_RATE_LIMIT_MAX', env.SIGN_IN_RATE_LIMIT_MAX, 10),
    },
    /** Requests per client address per 10 seconds to any other /api/auth endpoint. */
    otherPerAddress: { windowSeconds: 10, max: 100 },
  };
}

export type Config = ReturnType<typeof loadConfig>;

export function loadConfig(env = process.env) {
  const port = Number(env.PORT ?? 3000);
  const publicUrl = env.PUBLIC_URL ?? `http://localhost:${port}`;
  return {
    env: env.NODE_ENV ?? 'development',
    port,
    publicUrl,
    databaseUrl: env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
    temporal: {
      address: env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
      namespace: env.TEMPORAL_NAMESPACE ?? 'default',
      uiOrigin: env.TEMPORAL_UI_ORIGIN ?? 'http://localhost:8233',
      /** Where the API starts and signals ticket-side workflows; tests use a queue of their own. */
      ticketsTaskQueue: env.TEMPORAL_TICKETS_TASK_QUEUE ?? 'tickets',
    },
    authSecret: required('BETTER_AUTH_SECRET', env.BETTER_AUTH_SECRET),
    credentialKeys: parseKeyRing(
      required('SWITCHBOARD_MASTER_KEYS', env.SWITCHBOARD_MASTER_KEYS),
      env.SWITCHBOARD_MASTER_KEY_ID,
      'SWITCHBOARD_MASTER_KEYS',
    ),
    codecKeys: parseKeyRing(
      required('SWITCHBOARD_CODEC_KEYS', env.SWITCHBOARD_CODEC_KEYS),
      env.SWITCHBOARD_CODEC_KEY_ID,
      'SWITCHBOARD_CODEC_KEYS',
    ),
    /**
     * The deployment's operators, by account e-mail: people who run Switchboard rather than use it for an
     * organisation. Only they may use the codec endpoint, which decodes every organisation's payloads.
     */
    operatorEmails: (env.SWITCHBOARD_OPERATOR_EMAILS ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
    /** The worker's Prometheus endpoint (GET /metrics on 127.0.0.1); 0 turns it off. */
    workerMetricsPort: Number(env.WORKER_METRICS_PORT ?? 9464),
    /**
     * Workflows each workflow-running worker keeps in memory (Temporal's sticky cache). The SDK's default grows with
     * the V8 heap limit (thousands on a large machine, about 1 MB each), so a worker with many open tickets' SLA
     * watches would grow into gigabytes; past this number the least recently used are evicted and replayed when
     * next woken.
     */
    workerMaxCachedWorkflows: Number(env.WORKER_MAX_CACHED_WORKFLOWS ?? 250),
    /**
     * PostgreSQL connections of a worker process. Its outbound delivery batches (up to 200 at once) each hold one
     * only for a statement; the outbox relay, and the LISTEN session of batches waiting for work, hold one each.
     */
    workerDatabasePool: wholeNumber('WORKER_DATABASE_POOL', env.WORKER_DATABASE_POOL, 20, 1),
    auth: authConfig(env),
    logLevel: env.LOG_LEVEL ?? 'info',
    bodyLimit: env.BODY_LIMIT ?? '1mb',
    /** /readyz reports the relay as lagging when its oldest undispatched event is older than this. */
    relayLagLimitSeconds: Number(env.RELAY_LAG_LIMIT_SECONDS ?? 60),
  };
}
