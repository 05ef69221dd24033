// Serves better-auth under /api/auth/* through Express, so its endpoints get the same body limit, JSON-only
// rule and error shape as the rest of the API.

import { fromNodeHeaders } from 'better-auth/node';
import express, { type Request, type Response, Router } from 'express';
import { z } from 'zod';
import type { Config } from '../../common/config.ts';
import { requireJsonBody } from '../http/middleware.ts';
import { errorResponse, registry } from '../openapi/registry.ts';
import type { Auth } from './better-auth.ts';

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

async function forward(auth: Auth, config: Config, req: Request, res: Response): Promise<void> {
  const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? new Uint8Array(req.body) : undefined;
  // better-auth speaks the Fetch API: the global Request, not Express's.
  const request = new globalThis.Request(new URL(req.originalUrl, config.publicUrl), {
    method: req.method,
    headers: fromNodeHeaders(req.headers),
    body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
  });
  const response = await auth.handler(request);
  res.status(response.status);
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

export function authRoutes({ auth, config }: { auth: Auth; config: Config }): Router {
  const router = Router();
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
