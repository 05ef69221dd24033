import { auditLog, type Executor } from '@switchboard/database';
import type { Scope } from './scope.ts';

export type AuditEntry = {
  action: string;
  entityType:
    | 'ticket'
    | 'comment'
    | 'integration'
    | 'organization'
    | 'member'
    | 'invitation'
    | 'attachment'
    | 'notification_rule'
    | 'notification_preferences';
  entityId: string;
  /** What changed, never secrets: credentials are recorded as "changed", not by value. */
  metadata?: Record<string, unknown>;
};

/** Writes the audit row for a change; call it inside the transaction that makes the change. */
export async function recordAudit(tx: Executor, scope: Scope, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values({
    organizationId: scope.organizationId,
    actorType: scope.actor.type,
    actorId: scope.actor.id,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    metadata: entry.metadata ?? {},
    requestId: scope.requestId ?? null,
  });
}
