// Talking to the link workflows from the API: each link's sync workflow is the only writer of that link, so the API
// never changes a link's sync state itself; it signals (and, where the workflow may not be running, starts) it.
import { externalSyncRecords } from '@switchboard/database';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { and, eq, like, ne } from 'drizzle-orm';
import { ticketSearchAttributes, workflowIds, workflowTypes } from '../../temporal-config/index.ts';
import {
  type LinearLinkChange,
  type LinearSyncInput,
  linearChangeSignal,
  linearReconcileSignal,
  linearResumeSignal,
  linearUnlinkSignal,
} from '../../workflows/linear-contract.ts';
import type { LinearDeps } from './installation.ts';

export type LinkIdentity = {
  organizationId: string;
  ticketId: string;
  linkId: string;
  integrationId: string;
  issueId: string;
};

function syncStart(deps: Pick<LinearDeps, 'ticketsTaskQueue'>, link: LinkIdentity) {
  const input: LinearSyncInput = {
    organizationId: link.organizationId,
    ticketId: link.ticketId,
    linkId: link.linkId,
    integrationId: link.integrationId,
    issueId: link.issueId,
  };
  return {
    workflowId: workflowIds.linearSync(link.ticketId, link.issueId),
    taskQueue: deps.ticketsTaskQueue,
    args: [input] as [LinearSyncInput],
    typedSearchAttributes: ticketSearchAttributes(link.ticketId, link.organizationId, 'linear'),
  };
}

/** Hands a change to the link's workflow, starting it if it is not running. */
export async function signalLinkChange(
  client: Client,
  deps: Pick<LinearDeps, 'ticketsTaskQueue'>,
  link: LinkIdentity,
  change: LinearLinkChange,
): Promise<void> {
  await client.workflow.signalWithStart(workflowTypes.linearSync, {
    ...syncStart(deps, link),
    signal: linearChangeSignal,
    signalArgs: [change],
  });
}

/** Resumes a paused (failed) link; a workflow that is gone is started again and reads the link afresh. */
export function resumeLink(client: Client, deps: Pick<LinearDeps, 'ticketsTaskQueue'>, link: LinkIdentity) {
  return signalLinkStarting(client, deps, link, linearResumeSignal);
}

/**
 * Makes a link compare itself with Linear now (the reconcile step: both sides read, missed comments imported),
 * starting its workflow if it is not running (a new run reconciles first anyway).
 */
export function reconcileLinkNow(client: Client, deps: Pick<LinearDeps, 'ticketsTaskQueue'>, link: LinkIdentity) {
  return signalLinkStarting(client, deps, link, linearReconcileSignal);
}

/** A signal without arguments to a link's workflow, started if it is not running. */
async function signalLinkStarting(
  client: Client,
  deps: Pick<LinearDeps, 'ticketsTaskQueue'>,
  link: LinkIdentity,
  signal: SignalDefinition<[]>,
): Promise<void> {
  await client.workflow.signalWithStart(workflowTypes.linearSync, { ...syncStart(deps, link), signal, signalArgs: [] });
}

export async function signalUnlink(client: Client, ticketId: string, issueId: string): Promise<void> {
  try {
    await client.workflow.getHandle(workflowIds.linearSync(ticketId, issueId)).signal(linearUnlinkSignal);
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}

/**
 * Every link of the installation that is not paused reconciles now, if its workflow runs (one that does not reads
 * the settings when it starts). Best effort per link; returns how many were told.
 */
export async function reconcileRunningLinks(
  deps: Pick<LinearDeps, 'db' | 'temporal' | 'logger'>,
  organizationId: string,
  integrationId: string,
): Promise<number> {
  if (!deps.temporal) return 0;
  const links = await deps.db
    .select({ ticketId: externalSyncRecords.supportRequestId, issueId: externalSyncRecords.externalId })
    .from(externalSyncRecords)
    .where(
      and(
        eq(externalSyncRecords.organizationId, organizationId),
        eq(externalSyncRecords.integrationConfigId, integrationId),
        ne(externalSyncRecords.syncStatus, 'failed'),
      ),
    );
  let told = 0;
  for (const link of links) {
    try {
      await deps.temporal.workflow
        .getHandle(workflowIds.linearSync(link.ticketId, link.issueId))
        .signal(linearReconcileSignal);
      told += 1;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError))
        deps.logger.warn({ err: error, integrationId }, 'could not tell a Linear link to reconcile');
    }
  }
  return told;
}

/**
 * After a reconnect: every failed link of the installation tries again with the new credentials. Best effort per
 * link (a link whose workflow cannot be reached keeps its retry button); returns how many were resumed.
 */
export async function resumeFailedLinks(
  deps: Pick<LinearDeps, 'db' | 'temporal' | 'ticketsTaskQueue' | 'logger'>,
  organizationId: string,
  integrationId: string,
  /** Only the links that failed with this failure type (their lastError is `<type>: <reason>`). */
  onlyFailedWith?: string,
): Promise<number> {
  const failed = await deps.db
    .select({
      linkId: externalSyncRecords.id,
      ticketId: externalSyncRecords.supportRequestId,
      issueId: externalSyncRecords.externalId,
    })
    .from(externalSyncRecords)
    .where(
      and(
        eq(externalSyncRecords.organizationId, organizationId),
        eq(externalSyncRecords.integrationConfigId, integrationId),
        eq(externalSyncRecords.syncStatus, 'failed'),
        onlyFailedWith ? like(externalSyncRecords.lastError, `${onlyFailedWith}:%`) : undefined,
      ),
    );
  if (failed.length === 0) return 0;
  if (!deps.temporal) {
    deps.logger.warn({ integrationId, links: failed.length }, 'Temporal unreachable: failed Linear links not resumed');
    return 0;
  }
  let resumed = 0;
  for (const link of failed) {
    try {
      await resumeLink(deps.temporal, deps, { organizationId, integrationId, ...link });
      resumed += 1;
    } catch (error) {
      deps.logger.warn({ err: error, linkId: link.linkId }, 'could not resume a failed Linear link');
    }
  }
  return resumed;
}
