// Who is calling: an API key (Authorization: Bearer / x-api-key) or a better-auth session cookie.
// Sets req.auth with the organisation, the role and the actor; every /api route relies on it.
import { type Database, member } from '@switchboard/database';
import { fromNodeHeaders } from 'better-auth/node';
import { asc, eq } from 'drizzle-orm';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { memberRoles, type Role } from '../../common/enums.ts';
import { forbidden, unauthenticated } from '../../common/errors.ts';
import type { AuthContext } from '../http/context.ts';
import { findApiKeyIdentity } from './api-keys.ts';
import type { Auth } from './better-auth.ts';

const roles: readonly string[] = memberRoles;

function asRole(value: string): Role {
  if (!roles.includes(value)) throw forbidden(`membership role "${value}" is not one Switchboard knows`);
  return value as Role;
}

/** The API key a program presented, if any; a malformed Authorization header is a 401, not a fallback to cookies. */
function presentedApiKey(req: Request): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string') return header.trim();
  const authorization = req.headers.authorization;
  if (authorization === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw unauthenticated('Authorization must be "Bearer <api key>"');
  return match[1];
}

async function viaApiKey(db: Database, key: string): Promise<AuthContext> {
  const identity = await findApiKeyIdentity(db, key);
  if (!identity) throw unauthenticated('invalid or revoked API key');
  return {
    organizationId: identity.organizationId,
    role: asRole(identity.role),
    actor: { type: 'api_key', id: identity.keyId },
    userId: identity.userId,
  };
}

async function viaSession(db: Database, auth: Auth, req: Request, res: Response): Promise<AuthContext> {
  const result = await auth.api.getSession({ headers: fromNodeHeaders(req.headers), returnHeaders: true });
  // better-auth extends sessions as they are used; pass the refreshed cookie on.
  for (const cookie of result.headers.getSetCookie()) res.append('set-cookie', cookie);
  const found = result.response;
  if (!found) throw unauthenticated();
  const memberships = await db
    .select({ organizationId: member.organizationId, role: member.role })
    .from(member)
    .where(eq(member.userId, found.user.id))
    .orderBy(asc(member.createdAt), asc(member.id));
  const active = memberships.find((m) => m.organizationId === found.session.activeOrganizationId) ?? memberships[0];
  if (!active) throw forbidden('you are not a member of any organisation');
  return {
    organizationId: active.organizationId,
    role: asRole(active.role),
    actor: { type: 'user', id: found.user.id },
    userId: found.user.id,
    sessionId: found.session.id,
  };
}

/** Resolves req.auth or fails with 401/403. */
export function authenticate({ db, auth }: { db: Database; auth: Auth }): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const key = presentedApiKey(req);
      req.auth = key !== undefined ? await viaApiKey(db, key) : await viaSession(db, auth, req, res);
      next();
    } catch (error) {
      next(error);
    }
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for cookie-authenticated writes (API keys are not sent by browsers on their own): the request
 * must come from a trusted origin. Browsers send Origin on every cross-origin request and on same-origin
 * non-GET requests, so a missing Origin (with no Referer either) is refused too. SameSite=Lax cookies and the
 * JSON-only body rule are the other two layers.
 */
export function requireTrustedOrigin(origins: string[]): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || req.auth?.actor.type !== 'user') return next();
    try {
      assertTrustedOrigin(req, origins);
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** The same rule for a route that reads the session cookie itself (outside the /api authentication). */
export function assertTrustedOrigin(req: Request, origins: string[]): void {
  const origin = req.headers.origin ?? originOf(req.headers.referer);
  if (!origin || !origins.includes(origin))
    throw forbidden(`cookie-authenticated writes must come from ${origins.join(' or ')}`);
}

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
