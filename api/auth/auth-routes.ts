// Serves better-auth under /api/auth/* through Express, so its endpoints get the same body limit, JSON-only
// rule and error shape as the rest of the API. Express decides who the client is (`trust proxy`, TRUST_PROXY) and
// hands better-auth that address in a header of ours, so better-auth's per-address rate limit counts real clients
// rather than whatever X-Forwarded-For a client makes up. Password sign-in also backs off per account and address.

import type { Database } from '@switchboard/database';
import { fromNodeHeaders } from 'better-auth/node';
import express, { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { Config } from '../../common/config.ts';
import { requireJsonBody } from '../http/middleware.ts';
import { errorResponse, registry } from '../openapi/registry.ts';
import { type Auth, CLIENT_ADDRESS_HEADER } from './better-auth.ts';
import { clearFailures, lockedFor, pairKey, recordFailure } from './sign-in-backoff.ts';

// better-auth serves many endpoints; these are the ones the dashboard and the contract rely on.
const sessionUser = z.object({ id: z.string(), name: z.string(), email: z.string() });
const errors = { description: 'Error', content: { 'application/json': { schema: errorResponse } } };
registry.registerPath({
  method: 'post',
  path: '/api/auth/sign-in/email',
  summary: 'Sign in with email and password (sets the session cookie)',
  tags: ['Account'],
  request: {
    body: {
      required: true,
      content: { 'application/json': { schema: z.object({ email: z.string(), password: z.string() }) } },
    },
  },
  responses: {
    200: {
      description: 'Signed in; Set-Cookie carries the session',
      content: { 'application/json': { schema: z.object({ user: sessionUser }).passthrough() } },
    },
    401: errors,
    403: errors,
    429: {
      description:
        'Too many attempts: from this address (per minute), or at this account from this address (after 5 failures ' +
        'in a row it backs off, doubling up to 15 minutes). Retry-After says when to try again.',
      content: { 'application/json': { schema: errorResponse } },
    },
  },
});
registry.registerPath({
  method: 'post',
  path: '/api/auth/sign-out',
  summary: 'Sign out (ends the session, clears the cookie)',
  tags: ['Account'],
  security: [{ sessionCookie: [] }],
  responses: { 200: { description: 'Signed out' }, 403: errors },
});
registry.registerPath({
  method: 'get',
  path: '/api/auth/get-session',
  summary: 'The current session, or null',
  tags: ['Account'],
  security: [{ sessionCookie: [] }],
  responses: { 200: { description: 'The session and its user, or null' } },
});

function snakeCase(code: string): string {
  return code.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

const codeForStatus: Record<number, string> = {
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  429: 'rate_limited',
};

/** better-auth's `{ code, message }` (or plain text) becomes our `{ error: { code, message, requestId } }`. */
function asErrorBody(status: number, text: string, requestId: string) {
  let code = codeForStatus[status] ?? 'bad_request';
  let message = text || `request failed with status ${status}`;
  try {
    const parsed = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === 'string' && parsed.code) code = snakeCase(parsed.code);
    if (typeof parsed.message === 'string' && parsed.message) message = parsed.message;
  } catch {
    // plain-text body: keep it as the message
  }
  return { error: { code, message, requestId } };
}

/** The client's address as Express sees it: the socket's peer, or as many X-Forwarded-For hops as TRUST_PROXY. */
function clientAddress(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/** `beforeAnswer` runs once better-auth has answered and before the client hears it. */
async function forward(
  auth: Auth,
  config: Config,
  req: Request,
  res: Response,
  beforeAnswer?: (status: number) => Promise<void>,
): Promise<void> {
  const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? new Uint8Array(req.body) : undefined;
  const headers = fromNodeHeaders(req.headers);
  // Set here, replacing anything the client sent under that name: better-auth reads the address from it only.
  headers.set(CLIENT_ADDRESS_HEADER, clientAddress(req));
  // better-auth speaks the Fetch API: the global Request, not Express's.
  const request = new globalThis.Request(new URL(req.originalUrl, config.publicUrl), {
    method: req.method,
    headers,
    body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
  });
  const response = await auth.handler(request);
  await beforeAnswer?.(response.status);
  res.status(response.status);
  const retryAfter = response.headers.get('x-retry-after');
  if (response.status === 429 && retryAfter) res.setHeader('retry-after', retryAfter);
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie' && name !== 'content-length') res.setHeader(name, value);
  }
  for (const cookie of response.headers.getSetCookie()) res.append('set-cookie', cookie);
  const text = await response.text();
  if (response.status >= 400) {
    res.json(asErrorBody(response.status, text, req.id));
  } else {
    res.send(text);
  }
}

function emailOf(body: unknown): string | null {
  if (!Buffer.isBuffer(body)) return null;
  try {
    const email = (JSON.parse(body.toString('utf8')) as { email?: unknown }).email;
    return typeof email === 'string' && email.length > 0 && email.length <= 320 ? email : null;
  } catch {
    return null;
  }
}

/** Password sign-in: refused while this address is backing off from this account; failures and successes counted. */
async function signInWithBackoff(db: Database, auth: Auth, config: Config, req: Request, res: Response) {
  const email = emailOf(req.body);
  if (!email) return forward(auth, config, req, res);
  const key = pairKey(config.authSecret, email, clientAddress(req));
  const waitMs = await lockedFor(db, key);
  if (waitMs > 0) {
    const seconds = Math.ceil(waitMs / 1000);
    res.setHeader('retry-after', String(seconds));
    res.status(429).json({
      error: {
        code: 'rate_limited',
        message: `too many failed sign-ins to this account from this address: try again in ${seconds} s`,
        requestId: req.id,
      },
    });
    return;
  }
  // Counted before the client hears the answer, so its next guess already meets the count.
  await forward(auth, config, req, res, async (status) => {
    if (status === 401) await recordFailure(db, key);
    else if (status === 200) await clearFailures(db, key);
  });
}

export function authRoutes({ auth, config, db }: { auth: Auth; config: Config; db: Database }): Router {
  const router = Router();
  router.post(
    '/api/auth/sign-in/email',
    requireJsonBody,
    express.raw({ type: 'application/json', limit: config.bodyLimit }),
    async (req, res, next) => {
      try {
        await signInWithBackoff(db, auth, config, req, res);
      } catch (error) {
        next(error);
      }
    },
  );
  router.all(
    '/api/auth/*splat',
    requireJsonBody,
    express.raw({ type: 'application/json', limit: config.bodyLimit }),
    async (req, res, next) => {
      try {
        await forward(auth, config, req, res);
      } catch (error) {
        next(error);
      }
    },
  );
  return router;
}
