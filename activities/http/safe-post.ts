// The one outbound HTTP call of a webhook delivery: a POST that cannot be pointed at an internal address, never
// follows a redirect, never waits longer than the timeout and never reads more of the answer than it keeps.
import type { ClientRequest, IncomingMessage } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import { reservedHeaderReason } from '../../common/webhooks/request-headers.ts';
import {
  InvalidUrlError,
  PayloadTooLargeError,
  type SafePostError,
  SsrfRefusedError,
  TimeoutError,
  toSafePostError,
} from './errors.ts';
import { createGuardedAgents, type GuardedAgents, type Resolve, systemResolve } from './guarded-agent.ts';
import { checkEndpointUrl, parseAllowList } from './ssrf-guard.ts';

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

export function createSafePoster(options: SafePostOptions = {}): SafePoster {
  const settings = { ...defaults, ...options };
  const allowList = parseAllowList(options.allowCidrs ?? []);
  const urlPolicy = { allowHttp: options.allowHttp ?? false, allowList };
  const guard = { allowList, resolve: options.resolve ?? systemResolve };
  const agents = createGuardedAgents(guard);
  const pools = new Map<string, { agents: GuardedAgents; lastUsed: number }>();
  let lastSweep = Date.now();

  /** A pool's agents; pools idle for POOL_IDLE_MS are closed (looked at, at most once a minute, on use). */
  function agentsFor(pool: string | undefined): GuardedAgents {
    if (pool === undefined) return agents;
    const now = Date.now();
    if (now - lastSweep > 60_000) {
      lastSweep = now;
      for (const [key, entry] of pools)
        if (now - entry.lastUsed > POOL_IDLE_MS) {
          entry.agents.destroy();
          pools.delete(key);
        }
    }
    let entry = pools.get(pool);
    if (!entry) {
      entry = { agents: createGuardedAgents(guard), lastUsed: now };
      pools.set(pool, entry);
    }
    entry.lastUsed = now;
    return entry.agents;
  }

  // The verdict on a URL depends on the URL and this poster's policy only; endpoints send to the same URL again and
  // again. A hostname is still checked on every new connection, after DNS (guarded-agent.ts).
  const verdicts = new Map<string, ReturnType<typeof checkEndpointUrl>>();
  function checkUrl(url: string) {
    let verdict = verdicts.get(url);
    if (!verdict) {
      verdict = checkEndpointUrl(url, urlPolicy);
      if (verdicts.size >= 1000) verdicts.clear();
      verdicts.set(url, verdict);
    }
    return verdict;
  }

  function send(
    url: URL,
    headers: Record<string, string | number>,
    body: string | Uint8Array,
    started: number,
    agents: GuardedAgents,
  ) {
    return new Promise<PostResponse>((resolve, reject) => {
      const request = url.protocol === 'https:' ? https.request : http.request;
      const agent = url.protocol === 'https:' ? agents.https : agents.http;
      let settled = false;
      let response: IncomingMessage | undefined;
      const remaining = Math.max(0, settings.timeoutMs - (performance.now() - started));

      const fail = (error: SafePostError | StaleSocketError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      };

      const req: ClientRequest = request(url, { method: 'POST', agent, headers }, (res) => {
        response = res;
        const receivedAt = Date.now();
        const kept: Buffer[] = [];
        let keptBytes = 0;
        let seenBytes = 0;

        const finish = () => {
          if (settled) return;
          settled = true;
          const retryAfter = headerExcerpt(res.headers['retry-after'], 100);
          const location = headerExcerpt(res.headers.location, 500);
          resolve({
            status: res.statusCode ?? 0,
            durationMs: Math.round(performance.now() - started),
            receivedAt,
            ...(retryAfter === undefined ? {} : { retryAfter }),
            ...(location === undefined ? {} : { location }),
            // NUL cannot be stored in a PostgreSQL text column; binary bodies are not worth preserving anyway.
            bodyExcerpt: Buffer.concat(kept).toString('utf8').replaceAll('\0', '\uFFFD'),
            bodyTruncated: seenBytes > keptBytes || !res.complete,
          });
        };

        res.on('data', (chunk: Buffer) => {
          seenBytes += chunk.length;
          if (keptBytes < settings.excerptBytes) {
            const part = chunk.subarray(0, settings.excerptBytes - keptBytes);
            kept.push(part);
            keptBytes += part.length;
          }
          // The answer is decided by the status and the excerpt: no need to wait for the rest of a long body.
          if (seenBytes > settings.excerptBytes) finish();
          // Past the drain budget, dropping the connection is cheaper than reading on.
          if (seenBytes > settings.drainBytes) res.destroy();
        });
        res.on('end', finish);
        // A body cut short after the status arrived still leaves a usable answer.
        res.on('error', finish);
        res.on('close', () => {
          finish();
          clearTimeout(timer);
        });
      });

      const timer = setTimeout(() => {
        if (response) {
          // The status is known; keep it, drop the rest of a body that is taking too long.
          response.destroy();
        } else {
          req.destroy(new TimeoutError(`no response from ${url.hostname} within ${settings.timeoutMs} ms`));
        }
      }, remaining);

      req.on('error', (error) => {
        // A reset on a reused keep-alive socket before any answer is almost always the receiver having closed it
        // while idle: a race on our side, not an answer, so send once more on a fresh connection. Should the request
        // have reached the receiver after all, that is one more at-least-once duplicate with the same webhook-id.
        const mapped = toSafePostError(error);
        const stale = req.reusedSocket && response === undefined && mapped.code === 'connection_reset';
        fail(stale ? new StaleSocketError(mapped) : mapped);
      });
      req.end(body);
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
    // A string body goes out as is: Node then writes headers and body in one piece, a measurable gain per POST.
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
    const outgoing = {
      'content-type': 'application/json',
      'user-agent': settings.userAgent,
      ...headers,
      'content-length': length,
    };
    const via = agentsFor(pool);
    try {
      return await send(verdict.url, outgoing, body, started, via);
    } catch (error) {
      if (!(error instanceof StaleSocketError)) throw error;
      return await send(verdict.url, outgoing, body, started, via).catch((retryError) => {
        throw retryError instanceof StaleSocketError ? retryError.original : retryError;
      });
    }
  }

  return {
    post,
    close: () => {
      agents.destroy();
      for (const entry of pools.values()) entry.agents.destroy();
      pools.clear();
    },
  };
}

/** Internal signal: the request failed on a reused keep-alive socket before any response; send once more. */
class StaleSocketError extends Error {
  readonly original: SafePostError;
  constructor(original: SafePostError) {
    super(original.message);
    this.original = original;
  }
}
