// The end of a sync step, in one transaction: what both sides now hold (the next step's "last synced"), how the
// issue looks, the conflicts the policy settled; the link becomes `synced`.
import { externalSyncConflicts, externalSyncRecords } from '@switchboard/database';
import { and, eq, sql } from 'drizzle-orm';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import type { FieldConflict, SyncedValues } from '../../workflows/linear-sync-plan.ts';
import type { LinearActivityDeps } from './call.ts';
import type { LinearIssueDisplay, LinkRef } from './contract.ts';
import type { LinkState } from './link-status.ts';

export async function recordSyncState(
  deps: LinearActivityDeps,
  ref: LinkRef & { synced: SyncedValues; issue: LinearIssueDisplay; conflicts: FieldConflict[] },
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const [current] = await tx
      .select({ state: externalSyncRecords.state, integrationId: externalSyncRecords.integrationConfigId })
      .from(externalSyncRecords)
      .where(and(eq(externalSyncRecords.id, ref.linkId), eq(externalSyncRecords.organizationId, ref.organizationId)))
      .for('update');
    if (!current) return;
    // A retry of a step that committed finds its own sync time already stored: its conflicts are recorded too.
    const alreadyRecorded = (current.state as LinkState).lastSynced?.at === ref.synced.at;
    const state: LinkState = { ...(current.state as LinkState), lastSynced: ref.synced, issue: ref.issue };
    await tx
      .update(externalSyncRecords)
      .set({
        state,
        syncStatus: 'synced',
        lastSyncAt: sql`now()`,
        lastError: null,
        // The step got through, so whatever rate limit its calls waited on is behind it.
        rateLimitedUntil: null,
        externalKey: ref.issue.identifier,
        externalUrl: ref.issue.url,
        updatedAt: sql`now()`,
      })
      .where(and(eq(externalSyncRecords.id, ref.linkId), eq(externalSyncRecords.organizationId, ref.organizationId)));
    if (!alreadyRecorded && ref.conflicts.length > 0)
      await tx.insert(externalSyncConflicts).values(
        ref.conflicts.map((c) => ({
          organizationId: ref.organizationId,
          syncRecordId: ref.linkId,
          field: c.field,
          ticketValue: c.ticketValue ?? null,
          externalValue: c.linearValue ?? null,
          winner: c.winner === 'linear' ? 'external' : 'ticket',
          policy: c.policy,
          ticketChangedAt: c.ticketChangedAt ? new Date(c.ticketChangedAt) : null,
          externalChangedAt: c.linearChangedAt ? new Date(c.linearChangedAt) : null,
        })),
      );
    // Through the shared recorder, so the health monitor's error rate and history count Linear's syncs too.
    await recordIntegrationOutcome(tx, ref.organizationId, current.integrationId, { ok: true });
  });
}
