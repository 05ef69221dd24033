// The one outbound HTTP call of a webhook delivery: a POST that cannot be pointed at an internal address, never
// follows a redirect, never waits longer than the timeout and never reads more of the answer than it keeps.
import type { Dispatcher } from 'undici';
import { reservedHeaderReason } from '../../common/webhooks/request-headers.ts';
import { type Connection, type ConnectionOptions, Connections } from './connections.ts';
import {
  InvalidUrlError,
  PayloadTooLargeError,
  type SafePostError,
  SsrfRefusedError,
  TimeoutError,
  toSafePostError,
} from './errors.ts';
import { type Resolve, systemResolve } from './guarded-agent.ts';
import { createGuardedConnector } from './guarded-connector.ts';
import { checkEndpointUrl, parseAllowList, type UrlVerdict } from './ssrf-guard.ts';

export type SafePostOptions = {
  /** Deployment setting: plain http endpoints allowed (development, tests). Default false. */
  allowHttp?: boolean;
  /** Deployment setting: internal CIDRs deliveries may reach anyway. Default none. */
  allowCidrs?: readonly string[];
  /** Hostname resolution; defaults to the system resolver. */
  resolve?: Resolve;
  /** Whole-request budget, from before DNS to the end of the body excerpt. Default 15 s. */
  timeoutMs?: number;
  /** Refuse larger payloads before connecting. Default 256 KiB. */
  maxPayloadBytes?: number;
  /** How much of the response body is kept. Default 2 KiB. */
  excerptBytes?: number;
  /** How much of a response body is read in total to keep the connection reusable; past it the connection is
   * dropped instead. Default 64 KiB. */
  drainBytes?: number;
  userAgent?: string;
};

export type PostRequest = {
  url: string;
  /**
   * Keeps this request's keep-alive connections apart from other callers' (the webhook endpoint's id): each endpoint
   * reuses its own connections even when many endpoints share a host, instead of competing for one pool whose idle
   * connections are capped per host. Without it, one pool per poster.
   */
  pool?: string;
  /** Signature headers, content type, custom headers. Framing headers are ours to set (see request-headers.ts). */
  headers: Readonly<Record<string, string>>;
  body: string | Uint8Array;
};

export type PostResponse = {
  status: number;
  /** From the call to the end of the body excerpt. */
  durationMs: number;
  /** Epoch ms when the response headers arrived (the reference for an HTTP-date Retry-After). */
  receivedAt: number;
  retryAfter?: string;
  /** Where a 3xx pointed, so the endpoint's owner can fix the URL; never followed. */
  location?: string;
  /** The first excerptBytes of the body, as text. */
  bodyExcerpt: string;
  /** The body was longer than the excerpt, or did not finish arriving within the timeout. */
  bodyTruncated: boolean;
};

export type SafePoster = {
  /** Resolves with any HTTP response (every status); rejects with a SafePostError subclass when there is none. */
  post(request: PostRequest): Promise<PostResponse>;
  /** Closes pooled connections. */
  close(): void;
};

/** A keep-alive pool unused this long is closed. */
const POOL_IDLE_MS = 5 * 60_000;

/**
 * How long an idle keep-alive connection is kept when the receiver does not say (a `Keep-Alive: timeout=` hint wins).
 * undici's own default is 4 s; a delivery loop that pauses a little longer should not pay a new TLS handshake.
 */
const KEEP_ALIVE_MS = 30_000;

const defaults = {
  timeoutMs: 15_000,
  maxPayloadBytes: 256 * 1024,
  excerptBytes: 2048,
  drainBytes: 64 * 1024,
  userAgent: 'Switchboard-Webhooks/1.0',
};

/** Bounded header values: these are stored per attempt and shown in the dashboard. */
function headerExcerpt(value: string | string[] | undefined, max: number): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined ? undefined : text.slice(0, max);
}

/** A URL that passed the policy, split the way a dispatch takes it. */
type Target = { hostname: string; origin: string; path: string };

export function createSafePoster(options: SafePostOptions = {}): SafePoster {
  const settings = { ...defaults, ...options };
  const allowList = parseAllowList(options.allowCidrs ?? []);
  const urlPolicy = { allowHttp: options.allowHttp ?? false, allowList };
  const connect = createGuardedConnector({ allowList, resolve: options.resolve ?? systemResolve }, settings.timeoutMs);
  // No cap on connections per origin: the delivery layer caps concurrent POSTs per endpoint. HTTP/1.1 only, and no
  // redirect is followed (an undici Client has no redirect handling unless one is composed in).
  const connectionOptions: ConnectionOptions = { connect, allowH2: false, keepAliveTimeout: KEEP_ALIVE_MS };
  /**
   * Connections by pool and origin (an endpoint's URL may change while its pool lives); unused for POOL_IDLE_MS,
   * they are closed (looked at, at most once a minute, on use). Requests without a pool share one per origin.
   */
  const pools = new Map<string, { connections: Connections; lastUsed: number }>();
  let lastSweep = Date.now();

  function connectionsFor(pool: string | undefined, origin: string): Connections {
    const now = Date.now();
    if (now - lastSweep > 60_000) {
      lastSweep = now;
      for (const [key, idle] of pools)
        if (now - idle.lastUsed > POOL_IDLE_MS) {
          idle.connections.destroy();
          pools.delete(key);
        }
    }
    // A URL's origin has no space in it, so the key is unambiguous.
    const key = pool === undefined ? origin : `${origin} ${pool}`;
    let entry = pools.get(key);
    if (!entry) {
      entry = { connections: new Connections(origin, connectionOptions), lastUsed: now };
      pools.set(key, entry);
    }
    entry.lastUsed = now;
    return entry.connections;
  }

  // The verdict on a URL depends on the URL and this poster's policy only; endpoints send to the same URL again and
  // again. A hostname is still checked on every new connection, after DNS (guarded-connector.ts).
  const verdicts = new Map<string, { ok: true; target: Target } | (UrlVerdict & { ok: false })>();
  function checkUrl(url: string) {
    let verdict = verdicts.get(url);
    if (!verdict) {
      const checked = checkEndpointUrl(url, urlPolicy);
      verdict = checked.ok
        ? {
            ok: true,
            target: {
              hostname: checked.url.hostname,
              origin: checked.url.origin,
              path: `${checked.url.pathname}${checked.url.search}`,
            },
          }
        : checked;
      if (verdicts.size >= 1000) verdicts.clear();
      verdicts.set(url, verdict);
    }
    return verdict;
  }

  function send(
    target: Target,
    headers: Record<string, string>,
    body: string | Uint8Array,
    started: number,
    connections: Connections,
  ) {
    return new Promise<PostResponse>((resolve, reject) => {
      let settled = false;
      let status: number | undefined;
      let receivedAt = 0;
      let retryAfter: string | undefined;
      let location: string | undefined;
      const kept: Buffer[] = [];
      let keptBytes = 0;
      let seenBytes = 0;
      let controller: Dispatcher.DispatchController | undefined;
      let timedOut: TimeoutError | undefined;
      const remaining = Math.max(0, settings.timeoutMs - (performance.now() - started));
      const connection: Connection = connections.acquire();
      let reused = false;

      const finish = (complete: boolean) => {
        if (settled) return;
        settled = true;
        resolve({
          status: status ?? 0,
          durationMs: Math.round(performance.now() - started),
          receivedAt,
          ...(retryAfter === undefined ? {} : { retryAfter }),
          ...(location === undefined ? {} : { location }),
          // NUL cannot be stored in a PostgreSQL text column; binary bodies are not worth preserving anyway.
          bodyExcerpt: Buffer.concat(kept).toString('utf8').replaceAll('\0', '\uFFFD'),
          bodyTruncated: seenBytes > keptBytes || !complete,
        });
      };
      const fail = (error: SafePostError | StaleSocketError) => {
        if (settled) return;
        settled = true;
        reject(error);
      };

      const timer = setTimeout(() => {
        if (status !== undefined) {
          // The status is known; keep it, drop the rest of a body that is taking too long.
          finish(false);
          controller?.abort(new TimeoutError('body still arriving at the timeout'));
        } else {
          timedOut = new TimeoutError(`no response from ${target.hostname} within ${settings.timeoutMs} ms`);
          fail(timedOut);
          // A request still waiting for a connection is aborted when it gets one (onRequestStart).
          controller?.abort(timedOut);
        }
      }, remaining);

      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(started) {
          controller = started;
          // Called as the request is written: the socket it goes out on has carried this many answers.
          reused = connection.answeredOnSocket > 0;
          if (timedOut) started.abort(timedOut);
        },
        onResponseStart(_controller, statusCode, responseHeaders) {
          status = statusCode;
          receivedAt = Date.now();
          retryAfter = headerExcerpt(responseHeaders['retry-after'], 100);
          location = headerExcerpt(responseHeaders.location, 500);
        },
        onResponseData(current, chunk) {
          seenBytes += chunk.length;
          if (keptBytes < settings.excerptBytes) {
            const part = chunk.subarray(0, settings.excerptBytes - keptBytes);
            kept.push(part);
            keptBytes += part.length;
          }
          // The answer is decided by the status and the excerpt: no need to wait for the rest of a long body.
          if (seenBytes > settings.excerptBytes) finish(true);
          // Past the drain budget, dropping the connection (aborting does) is cheaper than reading on.
          if (seenBytes > settings.drainBytes) {
            clearTimeout(timer);
            current.abort(new TimeoutError('body over the drain budget'));
          }
        },
        onResponseEnd() {
          clearTimeout(timer);
          connection.answeredOnSocket++;
          connections.release(connection);
          finish(true);
        },
        onResponseError(_controller, error) {
          clearTimeout(timer);
          connections.release(connection);
          // A body cut short after the status arrived still leaves a usable answer.
          if (status !== undefined) {
            finish(false);
            return;
          }
          // A reset on a reused keep-alive connection before any answer is almost always the receiver having closed
          // it while idle: a race on our side, not an answer, so send once more. Should the request have reached the
          // receiver after all, that is one more at-least-once duplicate with the same webhook-id.
          const mapped = toSafePostError(error);
          const stale = reused && mapped.code === 'connection_reset';
          fail(stale ? new StaleSocketError(mapped) : mapped);
        },
      };
      connection.client.dispatch({ path: target.path, method: 'POST', headers, body }, handler);
    });
  }

  async function post({ url, headers, body, pool }: PostRequest): Promise<PostResponse> {
    const started = performance.now();
    const verdict = checkUrl(url);
    if (!verdict.ok) {
      throw verdict.code === 'ssrf_refused'
        ? new SsrfRefusedError(verdict.reason)
        : new InvalidUrlError(verdict.reason);
    }
    const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    if (length > settings.maxPayloadBytes) {
      throw new PayloadTooLargeError(`payload is ${length} bytes, over the ${settings.maxPayloadBytes}-byte limit`);
    }
    // The API refuses such custom headers when an endpoint is saved; reaching here with one is a bug, not a failed
    // attempt. Our own webhook-* signature headers are the exception to the reservation.
    for (const [name, value] of Object.entries(headers)) {
      const reason = name.toLowerCase().startsWith('webhook-') ? undefined : reservedHeaderReason(name, value);
      if (reason !== undefined) throw new TypeError(reason);
    }
    // undici sets content-length (and host) itself, from the body and the origin. Names are lower-cased: undici
    // sends `Content-Type` and `content-type` as two headers (node:http merged them), and a customer's own
    // Content-Type or User-Agent must replace ours, however they spelled it (the API refuses names that differ only
    // by case).
    const outgoing: Record<string, string> = { 'content-type': 'application/json', 'user-agent': settings.userAgent };
    for (const [name, value] of Object.entries(headers)) outgoing[name.toLowerCase()] = value;
    const via = connectionsFor(pool, verdict.target.origin);
    try {
      return await send(verdict.target, outgoing, body, started, via);
    } catch (error) {
      if (!(error instanceof StaleSocketError)) throw error;
      return await send(verdict.target, outgoing, body, started, via).catch((retryError) => {
        throw retryError instanceof StaleSocketError ? retryError.original : retryError;
      });
    }
  }

  return {
    post,
    close: () => {
      for (const entry of pools.values()) entry.connections.destroy();
      pools.clear();
    },
  };
}

/** Internal signal: the request failed on a reused keep-alive connection before any response; send once more. */
class StaleSocketError extends Error {
  readonly original: SafePostError;
  constructor(original: SafePostError) {
    super(original.message);
    this.original = original;
  }
}
