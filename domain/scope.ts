import type { Scope } from '../common/integration-contract.ts';
import type { Actor } from '../common/ticket-events.ts';

/**
 * Who is acting and in which organisation. Every domain function takes one, so every query it runs can
 * be scoped to the organisation and every write attributed (events, audit log) to the actor. The type is the
 * integration contract's, so integration modules can take it without importing the domain.
 */
export type { Scope } from '../common/integration-contract.ts';

/** The scope of an authenticated API request (its AuthContext) or anything shaped like it. */
export function scopeOf(
  auth: { organizationId: string; actor: Actor; userId: string | null },
  requestId?: string,
): Scope {
  return { organizationId: auth.organizationId, actor: auth.actor, userId: auth.userId, requestId };
}
