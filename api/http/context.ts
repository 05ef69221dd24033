import type { Actor } from '../../common/ticket-events.ts';

export type { Role } from '../../common/enums.ts';

import type { Role } from '../../common/enums.ts';

/** Who is calling, for which organisation, with which role. Set by the auth middleware on every /api request. */
export type AuthContext = {
  organizationId: string;
  role: Role;
  actor: Actor;
  /** The user behind the request (a session user, or the user who owns the API key). */
  userId: string;
  /**
   * The better-auth session behind a cookie-authenticated request (absent for API keys): what binds a browser flow
   * (Linear's OAuth) to the browser that started it.
   */
  sessionId?: string;
};

declare global {
  namespace Express {
    interface Request {
      id: string;
      auth?: AuthContext;
    }
  }
}

export function requireAuth(req: Express.Request): AuthContext {
  if (!req.auth) throw new Error('auth middleware did not run for this route');
  return req.auth;
}
