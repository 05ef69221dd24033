// A ticket's Linear links. Creating or linking an issue runs as a workflow (`linear-issue/<ticketId>/<key>`), so a
// slow or failing Linear never loses the request: the API waits a few seconds for the answer and otherwise says
// it goes on. Unlinking deletes the row and tells the link's sync workflow to end; retrying resumes a failed link.
import { randomUUID } from 'node:crypto';
import { externalSyncConflicts, externalSyncRecords, integrationConfigs } from '@switchboard/database';
import {
  type Client,
  WorkflowFailedError,
  type WorkflowHandle,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import { linearFailureTypes } from '../../activities/linear/contract.ts';
import type { LinkState } from '../../activities/linear/link-status.ts';
import { conflict, notFound, RequestError, validationFailed } from '../../common/errors.ts';
import { ticketSearchAttributes, workflowIds, workflowTypes } from '../../temporal-config/index.ts';
import type { LinearIssueRequest, LinearIssueResult } from '../../workflows/linear-contract.ts';
import { recordAudit } from '../audit.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { assertTicketExists } from '../tickets/ticket-record.ts';
import { type LinearDeps, requireTemporal } from './installation.ts';
import { type LinearLinkView, type NewLinearLinkInput, newLinearLinkInput } from './schemas.ts';
import { type LinkIdentity, reconcileLinkNow, resumeLink, signalUnlink } from './signals.ts';

type LinkRow = typeof externalSyncRecords.$inferSelect;

/** How long a create/link request waits for the workflow before answering 202. */
export const LINK_WAIT_MS = 8_000;
const CONFLICTS_SHOWN = 20;

export async function listLinks(
  deps: Pick<LinearDeps, 'db'>,
  scope: Scope,
  ticketId: string,
): Promise<LinearLinkView[]> {
  await assertTicketExists(deps.db, scope.organizationId, ticketId);
  const rows = await deps.db
    .select({ link: externalSyncRecords })
    .from(externalSyncRecords)
    .innerJoin(integrationConfigs, eq(integrationConfigs.id, externalSyncRecords.integrationConfigId))
    .where(
      and(
        eq(externalSyncRecords.organizationId, scope.organizationId),
        eq(externalSyncRecords.supportRequestId, ticketId),
        eq(integrationConfigs.integrationType, 'linear'),
      ),
    )
    .orderBy(asc(externalSyncRecords.createdAt), asc(externalSyncRecords.id));
  return toViews(
    deps,
    rows.map((r) => r.link),
  );
}

async function toViews(deps: Pick<LinearDeps, 'db'>, links: LinkRow[]): Promise<LinearLinkView[]> {
  if (links.length === 0) return [];
  const ranked = deps.db
    .select({
      syncRecordId: externalSyncConflicts.syncRecordId,
      field: externalSyncConflicts.field,
      ticketValue: externalSyncConflicts.ticketValue,
      externalValue: externalSyncConflicts.externalValue,
      winner: externalSyncConflicts.winner,
      policy: externalSyncConflicts.policy,
      ticketChangedAt: externalSyncConflicts.ticketChangedAt,
      externalChangedAt: externalSyncConflicts.externalChangedAt,
      createdAt: externalSyncConflicts.createdAt,
      id: externalSyncConflicts.id,
      rank: sql<number>`row_number() over (partition by ${externalSyncConflicts.syncRecordId} order by ${externalSyncConflicts.id} desc)`.as(
        'rank',
      ),
    })
    .from(externalSyncConflicts)
    .where(
      and(
        eq(externalSyncConflicts.organizationId, links[0]!.organizationId),
        inArray(
          externalSyncConflicts.syncRecordId,
          links.map((l) => l.id),
        ),
      ),
    )
    .as('ranked');
  const conflicts = await deps.db
    .select()
    .from(ranked)
    .where(sql`${ranked.rank} <= ${CONFLICTS_SHOWN}`)
    .orderBy(desc(ranked.id));
  return links.map((link) => {
    const issue = (link.state as LinkState | null)?.issue;
    return {
      id: link.id,
      integrationId: link.integrationConfigId,
      issueId: link.externalId,
      identifier: issue?.identifier ?? link.externalKey,
      title: issue?.title ?? null,
      url: issue?.url ?? link.externalUrl,
      state: issue?.state ? { name: issue.state.name, type: issue.state.type } : null,
      assignee: issue?.assignee ? { name: issue.assignee.name, email: issue.assignee.email } : null,
      // A failed link shows why it failed; any other that waits on the rate limit shows that, and until when.
      syncStatus: link.rateLimitedUntil && link.syncStatus !== 'failed' ? 'rate_limited' : link.syncStatus,
      nextAttemptAt: link.rateLimitedUntil && link.syncStatus !== 'failed' ? link.rateLimitedUntil.toISOString() : null,
      lastSyncAt: link.lastSyncAt?.toISOString() ?? null,
      lastError: link.lastError,
      conflicts: conflicts
        .filter((c) => c.syncRecordId === link.id && isConflictField(c.field))
        .map((c) => ({
          field: c.field as 'status' | 'priority' | 'assignee',
          ticketValue: c.ticketValue,
          linearValue: c.externalValue,
          winner: c.winner === 'ticket' ? ('ticket' as const) : ('linear' as const),
          policy: c.policy,
          ticketChangedAt: c.ticketChangedAt?.toISOString() ?? null,
          linearChangedAt: c.externalChangedAt?.toISOString() ?? null,
          at: c.createdAt.toISOString(),
        })),
      createdAt: link.createdAt.toISOString(),
    };
  });
}

const isConflictField = (f: string) => f === 'status' || f === 'priority' || f === 'assignee';

async function findLink(deps: Pick<LinearDeps, 'db'>, scope: Scope, ticketId: string, linkId: string) {
  const [row] = await deps.db
    .select({ link: externalSyncRecords })
    .from(externalSyncRecords)
    .innerJoin(integrationConfigs, eq(integrationConfigs.id, externalSyncRecords.integrationConfigId))
    .where(
      and(
        eq(externalSyncRecords.id, linkId),
        eq(externalSyncRecords.organizationId, scope.organizationId),
        eq(externalSyncRecords.supportRequestId, ticketId),
        eq(integrationConfigs.integrationType, 'linear'),
      ),
    );
  if (!row) throw notFound('Linear link');
  return row.link;
}

export async function getLink(
  deps: Pick<LinearDeps, 'db'>,
  scope: Scope,
  ticketId: string,
  linkId: string,
): Promise<LinearLinkView> {
  const [view] = await toViews(deps, [await findLink(deps, scope, ticketId, linkId)]);
  return view!;
}

/** The installation a request means: the one named, else the organisation's only active one. */
async function chooseInstallation(
  deps: Pick<LinearDeps, 'db'>,
  scope: Scope,
  integrationId: string | undefined,
): Promise<string> {
  const installations = await deps.db
    .select({ id: integrationConfigs.id, isActive: integrationConfigs.isActive })
    .from(integrationConfigs)
    .where(
      and(
        eq(integrationConfigs.organizationId, scope.organizationId),
        eq(integrationConfigs.integrationType, 'linear'),
      ),
    );
  if (integrationId) {
    const named = installations.find((i) => i.id === integrationId);
    if (!named)
      throw validationFailed('no such Linear installation', [
        { path: 'integrationId', message: 'not a Linear installation of this organisation' },
      ]);
    if (!named.isActive) throw conflict('this Linear installation is disconnected: reconnect it first');
    return named.id;
  }
  const active = installations.filter((i) => i.isActive);
  if (active.length === 0) throw conflict('connect Linear first (Settings → Integrations)');
  if (active.length > 1)
    throw validationFailed('several Linear installations are connected: say which', [
      { path: 'integrationId', message: 'required when more than one Linear installation is connected' },
    ]);
  return active[0]!.id;
}

/** `ENG-123`, `eng-123` and `https://linear.app/acme/issue/ENG-123/some-title` are the same issue. */
export function normaliseIssueRef(ref: string): string {
  const trimmed = ref.trim();
  const fromUrl = /\/issue\/([A-Za-z0-9]+-\d+)(?:[/?#]|$)/.exec(trimmed);
  if (fromUrl) return fromUrl[1]!.toUpperCase();
  if (/^[A-Za-z0-9]+-\d+$/.test(trimmed)) return trimmed.toUpperCase();
  // Something else (an issue uuid): kept as given, made safe for a workflow id.
  return trimmed.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 200);
}

export type CreateLinkOutcome =
  | { status: 201; link: LinearLinkView }
  | { status: 202; pending: { pending: true; workflowId: string } };

export async function createLink(
  deps: LinearDeps,
  scope: Scope,
  ticketId: string,
  rawInput: NewLinearLinkInput,
  options: { waitMs?: number } = {},
): Promise<CreateLinkOutcome> {
  const input = parseInput(newLinearLinkInput, rawInput);
  await assertTicketExists(deps.db, scope.organizationId, ticketId);
  const integrationId = await chooseInstallation(deps, scope, input.integrationId);
  const client = requireTemporal(deps);

  const base = { organizationId: scope.organizationId, ticketId, integrationId, requestedBy: scope.actor };
  const request: LinearIssueRequest =
    input.action === 'create'
      ? {
          ...base,
          mode: 'create',
          requestKey: input.idempotencyKey ?? randomUUID(),
          ...(input.title ? { title: input.title } : {}),
        }
      : { ...base, mode: 'link', requestKey: `link/${normaliseIssueRef(input.issue)}`, issueRef: input.issue };
  const workflowId = workflowIds.linearIssue(ticketId, request.requestKey);
  const handle = await startIssueWorkflow(client, deps, request, workflowId);

  const waited = await waitForResult(client, handle, options.waitMs ?? LINK_WAIT_MS);
  if (waited.kind === 'pending') return { status: 202, pending: { pending: true, workflowId } };
  if (waited.kind === 'failed') throw linkFailure(waited.failure, input.action);
  let link: LinearLinkView;
  try {
    link = await getLink(deps, scope, ticketId, waited.result.linkId);
  } catch (error) {
    if (error instanceof RequestError && error.status === 404)
      throw conflict(
        `this request already linked ${waited.result.identifier}, which has been unlinked since; link it again with a new request`,
      );
    throw error;
  }
  await recordAudit(deps.db, scope, {
    action: input.action === 'create' ? 'linear.issue_created' : 'linear.issue_linked',
    entityType: 'ticket',
    entityId: ticketId,
    metadata: { integrationId, issue: waited.result.identifier, linkId: link.id, created: waited.result.created },
  });
  return { status: 201, link };
}

/**
 * The same key is the same request: a running workflow is joined; a finished create is answered from its result
 * (never a second issue). A finished link may run again (after an unlink, linking again is a new request).
 */
async function startIssueWorkflow(
  client: Client,
  deps: Pick<LinearDeps, 'ticketsTaskQueue'>,
  request: LinearIssueRequest,
  workflowId: string,
): Promise<WorkflowHandle> {
  try {
    return await client.workflow.start(workflowTypes.linearIssue, {
      workflowId,
      taskQueue: deps.ticketsTaskQueue,
      args: [request],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowIdReusePolicy:
        request.mode === 'create'
          ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY
          : WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      typedSearchAttributes: ticketSearchAttributes(request.ticketId, request.organizationId, 'linear'),
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle(workflowId);
    throw error;
  }
}

type Waited =
  | { kind: 'done'; result: LinearIssueResult }
  | { kind: 'failed'; failure: { type: string | null; message: string } }
  | { kind: 'pending' };

async function waitForResult(client: Client, handle: WorkflowHandle, waitMs: number): Promise<Waited> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), waitMs);
  try {
    const result = (await client.withAbortSignal(abort.signal, () => handle.result())) as LinearIssueResult;
    return { kind: 'done', result };
  } catch (error) {
    if (abort.signal.aborted) return { kind: 'pending' };
    if (error instanceof WorkflowFailedError) {
      const cause = error.cause;
      if (cause instanceof ApplicationFailure)
        return { kind: 'failed', failure: { type: cause.type ?? null, message: cause.message } };
      return { kind: 'failed', failure: { type: null, message: cause?.message ?? error.message } };
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function linkFailure(failure: { type: string | null; message: string }, action: 'create' | 'link'): RequestError {
  switch (failure.type) {
    case linearFailureTypes.issueNotFound:
      return new RequestError(404, 'not_found', `Linear issue not found: ${failure.message}`);
    case linearFailureTypes.invalidInput:
      return validationFailed(failure.message, [
        { path: action === 'link' ? 'issue' : 'integrationId', message: failure.message },
      ]);
    case linearFailureTypes.teamNotAllowed:
      return validationFailed(failure.message, [
        { path: action === 'link' ? 'issue' : 'integrationId', message: failure.message },
      ]);
    case linearFailureTypes.authRevoked:
    case linearFailureTypes.notConnected:
      return conflict(`${failure.message}`);
    case linearFailureTypes.forbidden:
      return conflict(`${failure.message}`);
    case 'TicketNotFound':
      return notFound('ticket');
    default:
      return new RequestError(502, 'linear_unavailable', `the Linear request failed: ${failure.message}`);
  }
}

export async function unlink(deps: LinearDeps, scope: Scope, ticketId: string, linkId: string): Promise<void> {
  const link = await findLink(deps, scope, ticketId, linkId);
  await deps.db.transaction(async (tx) => {
    const [deleted] = await tx
      .delete(externalSyncRecords)
      .where(and(eq(externalSyncRecords.id, link.id), eq(externalSyncRecords.organizationId, scope.organizationId)))
      .returning({ id: externalSyncRecords.id });
    if (!deleted) throw notFound('Linear link');
    await recordAudit(tx, scope, {
      action: 'linear.issue_unlinked',
      entityType: 'ticket',
      entityId: ticketId,
      metadata: {
        linkId: link.id,
        integrationId: link.integrationConfigId,
        issue: link.externalKey ?? link.externalId,
      },
    });
  });
  // The row is gone, which the workflow would notice on its own; the signal only ends it sooner.
  if (!deps.temporal) return;
  try {
    await signalUnlink(deps.temporal, ticketId, link.externalId);
  } catch (error) {
    deps.logger.warn({ err: error, linkId }, 'could not tell the Linear link workflow it was unlinked');
  }
}

export async function retryLink(
  deps: LinearDeps,
  scope: Scope,
  ticketId: string,
  linkId: string,
): Promise<LinearLinkView> {
  const link = await findLink(deps, scope, ticketId, linkId);
  if (link.syncStatus !== 'failed') throw conflict(`the link is ${link.syncStatus}, not failed: nothing to retry`);
  const client = requireTemporal(deps);
  await resumeLink(client, deps, identityOf(scope, ticketId, link));
  await recordAudit(deps.db, scope, {
    action: 'linear.link_retried',
    entityType: 'ticket',
    entityId: ticketId,
    metadata: { linkId: link.id },
  });
  return getLink(deps, scope, ticketId, linkId);
}

/** "Sync now": the link reconciles at once instead of at its next tick. A paused (failed) link needs a retry. */
export async function syncLinkNow(
  deps: LinearDeps,
  scope: Scope,
  ticketId: string,
  linkId: string,
): Promise<LinearLinkView> {
  const link = await findLink(deps, scope, ticketId, linkId);
  if (link.syncStatus === 'failed') throw conflict('the link failed: retry it once its cause is fixed');
  await reconcileLinkNow(requireTemporal(deps), deps, identityOf(scope, ticketId, link));
  await recordAudit(deps.db, scope, {
    action: 'linear.link_sync_requested',
    entityType: 'ticket',
    entityId: ticketId,
    metadata: { linkId: link.id },
  });
  return getLink(deps, scope, ticketId, linkId);
}

/** What the link workflow is addressed by, from a stored link. */
function identityOf(
  scope: Scope,
  ticketId: string,
  link: { id: string; integrationConfigId: string; externalId: string },
): LinkIdentity {
  return {
    organizationId: scope.organizationId,
    ticketId,
    linkId: link.id,
    integrationId: link.integrationConfigId,
    issueId: link.externalId,
  };
}
