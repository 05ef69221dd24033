// The Slack workflows' database steps: planning tickets' events into Slack messages (the pure planner decides; this
// gathers its facts), and recording which tickets wait while the workspace is disconnected.
import { slackPausedThreads, slackPosts } from '@switchboard/database';
import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import { mapLimited } from '../../common/concurrency.ts';
import type { TicketPriority } from '../../common/enums.ts';
import type { TicketEventType } from '../../common/ticket-events.ts';
import { dmAssignmentUsers, dmMentionCandidates, ticketEventsByIds, ticketForSlack } from '../../domain/slack/cards.ts';
import type { SlackDeps } from '../../domain/slack/deps.ts';
import { findWorkspace, markWorkspaceConnected } from '../../domain/slack/installations.ts';
import type { SlackInstallationRef, SlackTicketEvents, SlackTicketRef } from '../../workflows/slack-contract.ts';
import {
  type MentionCandidate,
  mentionedIn,
  type PlannedEvent,
  planSlackOps,
  type SlackOp,
} from '../../workflows/slack-thread-plan.ts';
import type { SlackClients } from './client.ts';

export async function planSlackOpsActivity(
  deps: SlackDeps,
  ref: SlackTicketRef & { eventIds: number[] },
): Promise<SlackOp[]> {
  const [planned] = await planSlackTickets(deps, ref, [{ ticketId: ref.ticketId, eventIds: ref.eventIds }]);
  return planned?.ops ?? [];
}

/**
 * Plans several tickets' events at once (the installation's sync round): the installation and who wants DMs are
 * read once, each ticket's own facts once. A ticket deleted since plans nothing.
 */
export async function planSlackTickets(
  deps: SlackDeps,
  ref: SlackInstallationRef,
  tickets: readonly SlackTicketEvents[],
): Promise<Array<{ ticketId: string; ops: SlackOp[] }>> {
  // Removed (only that: a database failure fails the round, which is retried, rather than dropping its events).
  const workspace = await findWorkspace(deps, ref.organizationId, ref.integrationId);
  // Switched off: nothing goes to Slack, queued batches included (the events of that time are not sent later).
  if (!workspace?.isActive) return [];
  const dmAssignments = await dmAssignmentUsers(deps.db, ref.organizationId);
  // Who may be mentioned is read once, and only if some ticket has a comment.
  let candidates: Promise<MentionCandidate[]> | undefined;
  const mentionCandidates = () => {
    candidates ??= dmMentionCandidates(deps.db, ref.organizationId);
    return candidates;
  };
  // A few tickets at a time: the pool is shared with the deliveries.
  return mapLimited(tickets, PLAN_CONCURRENCY, async ({ ticketId, eventIds }) => {
    const ticket = await ticketForSlack(deps.db, deps.publicUrl, ref.organizationId, ticketId);
    if (!ticket) return { ticketId, ops: [] };
    const stored = await ticketEventsByIds(deps.db, ref.organizationId, ticketId, eventIds);
    const mentionable = stored.some((e) => e.type === 'comment.created') ? await mentionCandidates() : [];
    const parents = await deps.db
      .select({ channelId: slackPosts.channelId })
      .from(slackPosts)
      .where(
        and(
          eq(slackPosts.integrationId, ref.integrationId),
          eq(slackPosts.ticketId, ticketId),
          eq(slackPosts.kind, 'parent'),
          isNotNull(slackPosts.ts),
        ),
      );
    const ops = planSlackOps({
      ticketId,
      ticket: ticket.facts,
      rules: workspace.config.rules,
      parents: parents.map((p) => p.channelId),
      events: stored.map((e) => plannedEvent(e, mentionable)),
      dmAssignments,
    });
    return { ticketId, ops };
  });
}

const PLAN_CONCURRENCY = 8;

/** The few facts of a stored event that the planner decides by. */
function plannedEvent(
  e: { id: number; type: string; payload: unknown },
  candidates: readonly MentionCandidate[],
): PlannedEvent {
  const payload = e.payload as Record<string, unknown>;
  const planned: PlannedEvent = { id: e.id, type: e.type as TicketEventType };
  if (e.type === 'ticket.updated') {
    const priority = (payload.changes as Record<string, { from: TicketPriority; to: TicketPriority }> | undefined)
      ?.priority;
    if (priority) planned.priorityChange = priority;
  }
  if (e.type === 'comment.created') {
    const comment = payload.comment as { source?: string; body?: string; authorUserId?: string | null };
    planned.commentSource = comment?.source ?? 'web';
    if (candidates.length > 0)
      planned.mentions = mentionedIn(comment?.body ?? '', candidates, comment?.authorUserId ?? null);
  }
  if (e.type === 'ticket.assigned') planned.assigneeId = (payload.to as string | null) ?? null;
  return planned;
}

export async function pauseSlackThread(deps: SlackDeps, ref: SlackTicketRef): Promise<void> {
  await pauseSlackTickets(deps, { ...ref, ticketIds: [ref.ticketId] });
}

export async function resumeSlackThread(deps: SlackDeps, ref: SlackTicketRef): Promise<void> {
  await resumeSlackTickets(deps, { ...ref, ticketIds: [ref.ticketId] });
}

/** These tickets' Slack work waits for the workspace (the integrations page counts them), with the reason. */
export async function pauseSlackTickets(
  deps: SlackDeps,
  ref: SlackInstallationRef & { ticketIds: string[] },
): Promise<void> {
  if (ref.ticketIds.length === 0) return;
  const workspace = await findWorkspace(deps, ref.organizationId, ref.integrationId);
  const reason = `Slack disconnected (${workspace?.disconnectedReason ?? 'unknown'}): waiting for the app to be installed again`;
  await deps.db
    .insert(slackPausedThreads)
    .values(
      ref.ticketIds.map((ticketId) => ({
        integrationId: ref.integrationId,
        ticketId,
        organizationId: ref.organizationId,
        reason,
      })),
    )
    // A ticket deleted meanwhile has nothing to wait for (its row would break the foreign key).
    .onConflictDoNothing()
    .catch(async (error: unknown) => {
      if (!isForeignKeyViolation(error)) throw error;
      // One by one, so only the deleted ticket is left out; any other failure fails the step (it is retried).
      if (ref.ticketIds.length === 1) return;
      for (const ticketId of ref.ticketIds) await pauseSlackTickets(deps, { ...ref, ticketIds: [ticketId] });
    });
}

/** PostgreSQL's foreign_key_violation, as node-postgres reports it (drizzle wraps it as the cause). */
function isForeignKeyViolation(error: unknown): boolean {
  const code = (e: unknown) => (e as { code?: string } | undefined)?.code;
  return code(error) === '23503' || code((error as { cause?: unknown } | undefined)?.cause) === '23503';
}

export async function resumeSlackTickets(
  deps: SlackDeps,
  ref: SlackInstallationRef & { ticketIds: string[] },
): Promise<void> {
  if (ref.ticketIds.length === 0) return;
  await deps.db
    .delete(slackPausedThreads)
    .where(
      and(eq(slackPausedThreads.integrationId, ref.integrationId), inArray(slackPausedThreads.ticketId, ref.ticketIds)),
    );
}

export async function slackConnection(
  deps: SlackDeps & { clients: SlackClients },
  ref: SlackInstallationRef,
): Promise<{ connected: boolean }> {
  const workspace = await findWorkspace(deps, ref.organizationId, ref.integrationId);
  // A removed installation has nothing to wait for: the work ends (its deliveries find the installation gone).
  if (!workspace?.disconnectedReason) return { connected: true };
  if (workspace.disconnectedReason === 'app_uninstalled') return { connected: false };
  // A token Slack refused once may work again (a workspace reactivated): asked, not assumed.
  try {
    const client = await deps.clients.forWorkspace(workspace);
    await client.auth.test();
    await markWorkspaceConnected(deps, workspace.teamId);
    return { connected: true };
  } catch {
    return { connected: false };
  }
}

/** How many of the installation's tickets wait, and since when (the integrations page shows it). */
export async function pausedSummary(deps: Pick<SlackDeps, 'db'>, integrationId: string) {
  const [row] = await deps.db
    .select({ count: sql<number>`count(*)::int`, since: sql<Date | null>`min(${slackPausedThreads.pausedAt})` })
    .from(slackPausedThreads)
    .where(eq(slackPausedThreads.integrationId, integrationId));
  return { count: row?.count ?? 0, since: row?.since ?? null };
}
