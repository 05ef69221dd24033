// One place that reads the environment. Every process (API, worker, relay, scripts) uses it.
import { DEFAULT_DATABASE_URL } from '@switchboard/database';
import { taskQueueRateLimits } from '../temporal-config/index.ts';

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

/** A whole number ≥ 0 from the environment, or the fallback when unset; anything else stops the process. */
function wholeNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  if (!/^\d+$/.test(value.trim())) throw new Error(`${name} must be a whole number ≥ 0, got "${value}"`);
  return Number(value);
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
      /** Where the API starts and signals ticket-side workflows (Linear links); tests use a queue of their own. */
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
    webhooks: {
      /** Plain-http endpoints are refused unless a deployment opts in (tests do, for their loopback receivers). */
      allowHttp: env.SWITCHBOARD_WEBHOOK_ALLOW_HTTP === '1',
      /** CIDRs that outbound webhooks may reach although they are private/loopback (empty: none). */
      allowCidrs: (env.SWITCHBOARD_WEBHOOK_ALLOW_CIDRS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      timeoutMs: Number(env.SWITCHBOARD_WEBHOOK_TIMEOUT_MS ?? 15_000),
      payloadLimitBytes: Number(env.SWITCHBOARD_WEBHOOK_PAYLOAD_LIMIT_BYTES ?? 256 * 1024),
    },
    linear: {
      /** Linear's endpoints; tests and self-hosted proxies point these at another server. */
      apiUrl: env.LINEAR_API_URL ?? 'https://api.linear.app/graphql',
      authorizeUrl: env.LINEAR_AUTHORIZE_URL ?? 'https://linear.app/oauth/authorize',
      tokenUrl: env.LINEAR_TOKEN_URL ?? 'https://api.linear.app/oauth/token',
      revokeUrl: env.LINEAR_REVOKE_URL ?? 'https://api.linear.app/oauth/revoke',
      /** The OAuth application (Linear → Settings → API → OAuth applications); without it only API keys connect. */
      clientId: env.LINEAR_CLIENT_ID ?? null,
      clientSecret: env.LINEAR_CLIENT_SECRET ?? null,
      /** Must be registered on the OAuth application exactly as written here. */
      redirectUri: env.LINEAR_REDIRECT_URI ?? `${publicUrl}/api/linear/oauth/callback`,
      /** Scopes asked for: `admin` lets us register the webhook ourselves; without it the admin pastes it. */
      scopes: (env.LINEAR_SCOPES ?? 'read,write,admin')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      /** Refresh an access token this long before it expires. */
      refreshMarginMs: Number(env.LINEAR_REFRESH_MARGIN_MS ?? 5 * 60 * 1000),
      /** Per request to Linear. */
      timeoutMs: Number(env.LINEAR_TIMEOUT_MS ?? 15_000),
      /** The linear task queue's activity rate limit across all workers (temporal-config holds the default). */
      activitiesPerSecond: Number(env.LINEAR_ACTIVITIES_PER_SECOND ?? taskQueueRateLimits.linear),
    },
    /** The worker's Prometheus endpoint (GET /metrics on 127.0.0.1); 0 turns it off. */
    workerMetricsPort: Number(env.WORKER_METRICS_PORT ?? 9464),
    /**
     * Workflows each workflow-running worker keeps in memory (Temporal's sticky cache). The SDK's default grows with
     * the V8 heap limit (thousands on a large machine, about 1 MB each), so a worker with many open tickets' SLA
     * watches would grow into gigabytes; past this number the least recently used are evicted and replayed when
     * next woken.
     */
    workerMaxCachedWorkflows: Number(env.WORKER_MAX_CACHED_WORKFLOWS ?? 250),
    auth: authConfig(env),
    logLevel: env.LOG_LEVEL ?? 'info',
    bodyLimit: env.BODY_LIMIT ?? '1mb',
    /** /readyz reports the relay as lagging when its oldest undispatched event is older than this. */
    relayLagLimitSeconds: Number(env.RELAY_LAG_LIMIT_SECONDS ?? 60),
  };
}
