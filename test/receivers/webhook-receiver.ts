// A real HTTP server on loopback standing in for a customer's webhook endpoint. It records what it receives and
// answers as told per path: succeed, fail N times then succeed, hang, throttle with Retry-After, 410, redirect,
// answer slowly, or stream a big body. Used by delivery tests and the benchmark.
import { once } from 'node:events';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export type RecordedRequest = {
  method: string;
  /** Path and query as received. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body as text ('' when the receiver was started with recordBodies: false). */
  body: string;
  /** Epoch ms when the whole request had arrived. */
  receivedAt: number;
};

export type Reply = {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Stream this many bytes of body instead of `body`. */
  bodyBytes?: number;
  /** Send these body pieces one by one, `everyMs` apart, after the headers. */
  trickle?: { pieces: readonly string[]; everyMs: number };
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer (until the receiver closes). */
  hang?: boolean;
  /** Close the connection without answering. */
  drop?: boolean;
};

export type ReplyContext = {
  request: RecordedRequest;
  /** 1 for the first request on this path, 2 for the second... */
  nthOnPath: number;
  /** 1 for the first request carrying this webhook-id on this path (retries of one message count up). */
  nthForMessage: number;
};

export type Behaviour = (context: ReplyContext) => Reply;

export const behaviours = {
  ok:
    (status = 200): Behaviour =>
    () => ({ status }),
  /** Fails the first `failures` attempts of each message, then succeeds. */
  failTimes:
    (failures: number, status = 500): Behaviour =>
    ({ nthForMessage }) => ({ status: nthForMessage <= failures ? status : 200 }),
  hang: (): Behaviour => () => ({ hang: true }),
  drop: (): Behaviour => () => ({ drop: true }),
  tooManyRequests:
    (retryAfter: string, status = 429): Behaviour =>
    () => ({ status, headers: { 'retry-after': retryAfter } }),
  gone: (): Behaviour => () => ({ status: 410 }),
  redirect:
    (location: string, status = 301): Behaviour =>
    () => ({ status, headers: { location } }),
  slow:
    (delayMs: number, status = 200): Behaviour =>
    () => ({ status, delayMs }),
  bigBody:
    (bytes: number, status = 200): Behaviour =>
    () => ({ status, bodyBytes: bytes }),
  trickle:
    (pieces: readonly string[], everyMs: number, status = 200): Behaviour =>
    () => ({ status, trickle: { pieces, everyMs } }),
  status:
    (status: number, body = ''): Behaviour =>
    () => ({ status, body }),
};

export type ReceiverOptions = {
  /** Loopback only: '127.0.0.1' (default) or '::1'. */
  host?: '127.0.0.1' | '::1';
  /** For paths without their own behaviour. Default: 200. */
  behaviour?: Behaviour;
  /** Keep every request in `requests` (default true; the benchmark turns it off and counts). */
  keepRequests?: boolean;
  recordBodies?: boolean;
};

export type Receiver = {
  port: number;
  /** http://127.0.0.1:<port><path> (or [::1]). */
  url(path?: string): string;
  requests: RecordedRequest[];
  /** Requests fully received so far, kept or not. */
  count(): number;
  requestsTo(path: string): RecordedRequest[];
  /**
   * The most requests to this path (without query) that were open here at once: counted from the request's arrival
   * until its answer was handed to the socket. A sender that frees a slot only once it has read an answer had at
   * least as many in flight, so this never reads above its true concurrency, however loaded the machine (one that
   * gives up on a request early, at a timeout, frees the slot before this count does).
   */
  peakOpen(path: string): number;
  /** How requests to this exact path (without query) are answered from now on. */
  route(path: string, behaviour: Behaviour): void;
  onRequest(listener: (request: RecordedRequest) => void): void;
  /** Resolves once `n` requests have arrived in total (kept or not). */
  waitForCount(n: number, timeoutMs?: number): Promise<void>;
  /** Forgets recorded requests, counters and routes. */
  reset(): void;
  close(): Promise<void>;
};

const filler = Buffer.alloc(16 * 1024, 'x');

function* fillerBody(bytes: number) {
  for (let left = bytes; left > 0; left -= filler.length)
    yield left >= filler.length ? filler : filler.subarray(0, left);
}

async function* trickledBody(pieces: readonly string[], everyMs: number) {
  for (const piece of pieces) {
    yield piece;
    await sleep(everyMs);
  }
}

export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const host = options.host ?? '127.0.0.1';
  const keepRequests = options.keepRequests ?? true;
  const recordBodies = options.recordBodies ?? true;
  const fallback = options.behaviour ?? behaviours.ok();
  const routes = new Map<string, Behaviour>();
  const perPath = new Map<string, number>();
  const perMessage = new Map<string, number>();
  const open = new Map<string, number>();
  const peak = new Map<string, number>();
  const listeners: Array<(request: RecordedRequest) => void> = [];
  const waiters = new Set<{ n: number; done: () => void }>();
  const requests: RecordedRequest[] = [];
  let total = 0;

  const bump = (counter: Map<string, number>, key: string) => {
    const next = (counter.get(key) ?? 0) + 1;
    counter.set(key, next);
    return next;
  };

  async function answer(req: IncomingMessage, res: ServerResponse) {
    const openPath = (req.url ?? '/').split('?')[0] ?? '/';
    const nowOpen = (open.get(openPath) ?? 0) + 1;
    open.set(openPath, nowOpen);
    peak.set(openPath, Math.max(peak.get(openPath) ?? 0, nowOpen));
    // 'finish': the answer is with the socket; 'close' also covers a request destroyed or left hanging.
    let counted = true;
    const close = () => {
      if (!counted) return;
      counted = false;
      open.set(openPath, (open.get(openPath) ?? 1) - 1);
    };
    res.once('finish', close);
    res.once('close', close);
    const chunks: Buffer[] = [];
    for await (const piece of req) if (recordBodies) chunks.push(piece as Buffer);
    const request: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '/',
      headers: req.headers,
      body: recordBodies ? Buffer.concat(chunks).toString('utf8') : '',
      receivedAt: Date.now(),
    };
    total++;
    if (keepRequests) requests.push(request);
    const pathOnly = request.path.split('?')[0] ?? '/';
    const messageId = String(req.headers['webhook-id'] ?? '');
    const context = {
      request,
      nthOnPath: bump(perPath, pathOnly),
      nthForMessage: bump(perMessage, `${pathOnly} ${messageId}`),
    };
    for (const listener of listeners) listener(request);
    for (const waiter of waiters) if (total >= waiter.n) waiter.done();

    const reply = (routes.get(pathOnly) ?? fallback)(context);
    if (reply.hang) return;
    if (reply.drop) {
      req.socket.destroy();
      return;
    }
    if (reply.delayMs) await sleep(reply.delayMs);
    if (res.destroyed) return;
    res.writeHead(reply.status ?? 200, reply.headers);
    // A client that stops reading destroys the response; pipeline then ends quietly.
    if (reply.bodyBytes !== undefined) await pipeline(Readable.from(fillerBody(reply.bodyBytes)), res).catch(() => {});
    else if (reply.trickle)
      await pipeline(Readable.from(trickledBody(reply.trickle.pieces, reply.trickle.everyMs)), res).catch(() => {});
    else res.end(reply.body ?? '');
  }

  const server = http.createServer((req, res) => {
    answer(req, res).catch(() => res.destroy());
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const origin = host === '::1' ? `http://[::1]:${port}` : `http://${host}:${port}`;

  return {
    port,
    url: (path = '/') => origin + path,
    requests,
    count: () => total,
    requestsTo: (path) => requests.filter((r) => r.path === path),
    peakOpen: (path) => peak.get(path) ?? 0,
    route: (path, behaviour) => routes.set(path, behaviour),
    onRequest: (listener) => listeners.push(listener),
    waitForCount(n, timeoutMs = 10_000) {
      if (total >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          n,
          done: () => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`receiver got ${total} of ${n} expected requests within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    reset() {
      requests.length = 0;
      total = 0;
      routes.clear();
      perPath.clear();
      perMessage.clear();
      // Requests still open stay counted in `open`; only the peaks start again.
      peak.clear();
    },
    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
