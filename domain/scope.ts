import type { Actor } from '../common/ticket-events.ts';

/**
 * Who is acting and in which organisation. Every domain function takes one, so every query it runs can
 * be scoped to the organisation and every write attributed (events, audit log) to the actor.
 */
export type Scope = {
  organizationId: string;
  actor: Actor;
  /** The person behind the actor: the signed-in user, or the owner of the API key. Null for system work. */
  userId: string | null;
  /** Correlates audit rows with the request log. */
  requestId?: string;
};

/** The scope of an authenticated API request (its AuthContext) or anything shaped like it. */
export function scopeOf(
  auth: { organizationId: string; actor: Actor; userId: string | null },
  requestId?: string,
): Scope {
  return { organizationId: auth.organizationId, actor: auth.actor, userId: auth.userId, requestId };
}
