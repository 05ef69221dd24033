// Reading a link (an external_sync_records row of a Linear installation) and moving it between pending, synced and
// failed. Every query names the organisation: a link id from another organisation reads as no link at all.
import {
  type Database,
  type Executor,
  externalSyncRecords,
  integrationConfigs,
  integrationEvents,
} from '@switchboard/database';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq, isNotNull, or, sql } from 'drizzle-orm';
import { type LinearConfig, linearConfigSchema } from '../../domain/integrations/linear-config.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import { lookupInstallation } from '../../domain/linear/installation.ts';
import type { SyncedValues } from '../../workflows/linear-sync-plan.ts';
import type { LinearIssueDisplay, LinkRef } from './contract.ts';

/** What external_sync_records.state holds for a Linear link. */
export type LinkState = {
  lastSynced?: SyncedValues;
  issue?: LinearIssueDisplay;
  /** How the link was made: an issue created from the ticket, or an existing issue linked to it. */
  origin?: 'created' | 'linked';
};

export type LinkRow = {
  id: string;
  organizationId: string;
  ticketId: string;
  integrationId: string;
  issueId: string;
  externalKey: string | null;
  syncStatus: 'synced' | 'pending' | 'failed';
  lastError: string | null;
  state: LinkState;
  createdAt: Date;
  config: LinearConfig;
};

/** The link and its installation's config (defaults filled in), or null when either is gone. */
export async function loadLink(db: Executor, ref: LinkRef): Promise<LinkRow | null> {
  const [row] = await db
    .select({ link: externalSyncRecords, config: integrationConfigs.config })
    .from(externalSyncRecords)
    .innerJoin(
      integrationConfigs,
      and(
        eq(integrationConfigs.id, externalSyncRecords.integrationConfigId),
        eq(integrationConfigs.organizationId, externalSyncRecords.organizationId),
        eq(integrationConfigs.integrationType, 'linear'),
      ),
    )
    .where(and(eq(externalSyncRecords.id, ref.linkId), eq(externalSyncRecords.organizationId, ref.organizationId)));
  if (!row) return null;
  return {
    id: row.link.id,
    organizationId: row.link.organizationId,
    ticketId: row.link.supportRequestId,
    integrationId: row.link.integrationConfigId,
    issueId: row.link.externalId,
    externalKey: row.link.externalKey,
    syncStatus: row.link.syncStatus,
    lastError: row.link.lastError,
    state: (row.link.state ?? {}) as LinkState,
    createdAt: row.link.createdAt,
    config: parseConfig(row.config),
  };
}

/** Like loadLink, for activities that cannot do anything without the link: its absence is final. */
export async function requireLink(db: Executor, ref: LinkRef): Promise<LinkRow> {
  const link = await loadLink(db, ref);
  if (!link)
    throw ApplicationFailure.create({
      type: 'LinearLinkNotFound',
      message: `link ${ref.linkId} no longer exists`,
      nonRetryable: true,
    });
  return link;
}

/** The installation's config, or a non-retryable LinearNotConnected when the installation is gone. */
export async function loadInstallationConfig(
  db: Executor,
  organizationId: string,
  integrationId: string,
): Promise<LinearConfig> {
  const row = await lookupInstallation(db, organizationId, integrationId);
  if (!row)
    throw ApplicationFailure.create({
      type: 'LinearNotConnected',
      message: 'the Linear installation no longer exists',
      nonRetryable: true,
    });
  return parseConfig(row.config);
}

function parseConfig(raw: unknown): LinearConfig {
  const parsed = linearConfigSchema.safeParse(raw ?? {});
  if (!parsed.success)
    throw ApplicationFailure.create({
      type: 'LinearInvalidInput',
      message: `the Linear installation's settings are invalid: ${parsed.error.issues[0]?.message ?? 'unknown'}`,
      nonRetryable: true,
    });
  return parsed.data;
}

/**
 * Pauses the link with a reason and tells the organisation's admins once: a retried call (same code and reason)
 * finds the link already failed that way and adds no second event.
 */
export async function markLinkFailed(db: Database, ref: LinkRef & { code: string; reason: string }): Promise<void> {
  const reason = `${ref.code}: ${ref.reason}`;
  await db.transaction(async (tx) => {
    const [changed] = await tx
      .update(externalSyncRecords)
      .set({ syncStatus: 'failed', lastError: reason, rateLimitedUntil: null, updatedAt: sql`now()` })
      .where(
        and(
          eq(externalSyncRecords.id, ref.linkId),
          eq(externalSyncRecords.organizationId, ref.organizationId),
          or(
            sql`${externalSyncRecords.syncStatus} <> 'failed'`,
            sql`${externalSyncRecords.lastError} is distinct from ${reason}`,
          ),
        ),
      )
      .returning({
        integrationId: externalSyncRecords.integrationConfigId,
        ticketId: externalSyncRecords.supportRequestId,
        issueId: externalSyncRecords.externalId,
        identifier: externalSyncRecords.externalKey,
      });
    if (!changed) return;
    await tx.insert(integrationEvents).values({
      organizationId: ref.organizationId,
      integrationConfigId: changed.integrationId,
      type: 'linear.link_failed',
      payload: {
        linkId: ref.linkId,
        ticketId: changed.ticketId,
        issueId: changed.issueId,
        identifier: changed.identifier,
        code: ref.code,
        reason: ref.reason,
      },
    });
    await recordIntegrationOutcome(tx, ref.organizationId, changed.integrationId, { ok: false, error: reason });
  });
}

/** After a resume: the link waits for its next sync, its last error cleared. */
export async function markLinkPending(db: Database, ref: LinkRef): Promise<void> {
  await db
    .update(externalSyncRecords)
    .set({ syncStatus: 'pending', lastError: null, rateLimitedUntil: null, updatedAt: sql`now()` })
    .where(and(eq(externalSyncRecords.id, ref.linkId), eq(externalSyncRecords.organizationId, ref.organizationId)));
}

/**
 * The link waits on Linear's rate limit until `until` (its next attempt), or no longer (null). Idempotent: a
 * repeated note writes the same, and clearing a link that waits on nothing changes no row. A link that is gone, or
 * failed meanwhile, is left alone (a failed link shows why it failed, not the wait before it).
 */
export async function noteLinkRateLimit(db: Executor, ref: LinkRef, until: Date | null): Promise<void> {
  const link = and(eq(externalSyncRecords.id, ref.linkId), eq(externalSyncRecords.organizationId, ref.organizationId));
  await db
    .update(externalSyncRecords)
    .set({ rateLimitedUntil: until })
    .where(
      until === null
        ? and(link, isNotNull(externalSyncRecords.rateLimitedUntil))
        : and(link, sql`${externalSyncRecords.syncStatus} <> 'failed'`),
    );
}
