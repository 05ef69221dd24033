// The ticket workflow's database steps: planning a batch of events into Slack messages (the pure planner decides;
// this gathers its facts), and recording a pause while the workspace is disconnected.
import { slackPausedThreads, slackPosts } from '@switchboard/database';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { TicketPriority } from '../../common/enums.ts';
import type { TicketEventType } from '../../common/ticket-events.ts';
import { dmAssignmentUsers, dmMentionCandidates, ticketEventsByIds, ticketForSlack } from '../../domain/slack/cards.ts';
import type { SlackDeps } from '../../domain/slack/deps.ts';
import { markWorkspaceConnected, workspaceOf } from '../../domain/slack/installations.ts';
import type { SlackTicketRef } from '../../workflows/slack-contract.ts';
import { mentionedIn, type PlannedEvent, planSlackOps, type SlackOp } from '../../workflows/slack-thread-plan.ts';
import type { SlackClients } from './client.ts';

export async function planSlackOpsActivity(
  deps: SlackDeps,
  ref: SlackTicketRef & { eventIds: number[] },
): Promise<SlackOp[]> {
  const workspace = await workspaceOf(deps, ref.organizationId, ref.integrationId).catch(() => null);
  // Switched off: nothing goes to Slack, queued batches included (the events of that time are not sent later).
  if (!workspace?.isActive) return [];
  const ticket = await ticketForSlack(deps.db, deps.publicUrl, ref.organizationId, ref.ticketId);
  if (!ticket) return [];
  const stored = await ticketEventsByIds(deps.db, ref.organizationId, ref.ticketId, ref.eventIds);
  const hasComments = stored.some((e) => e.type === 'comment.created');
  const candidates = hasComments ? await dmMentionCandidates(deps.db, ref.organizationId) : [];
  const events: PlannedEvent[] = stored.map((e) => {
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
  });
  const parents = await deps.db
    .select({ channelId: slackPosts.channelId })
    .from(slackPosts)
    .where(
      and(
        eq(slackPosts.integrationId, ref.integrationId),
        eq(slackPosts.ticketId, ref.ticketId),
        eq(slackPosts.kind, 'parent'),
        isNotNull(slackPosts.ts),
      ),
    );
  return planSlackOps({
    ticketId: ref.ticketId,
    ticket: ticket.facts,
    rules: workspace.config.rules,
    parents: parents.map((p) => p.channelId),
    events,
    dmAssignments: await dmAssignmentUsers(deps.db, ref.organizationId),
  });
}

export async function pauseSlackThread(deps: SlackDeps, ref: SlackTicketRef): Promise<void> {
  const workspace = await workspaceOf(deps, ref.organizationId, ref.integrationId).catch(() => null);
  await deps.db
    .insert(slackPausedThreads)
    .values({
      integrationId: ref.integrationId,
      ticketId: ref.ticketId,
      organizationId: ref.organizationId,
      reason: `Slack disconnected (${workspace?.disconnectedReason ?? 'unknown'}): waiting for the app to be installed again`,
    })
    .onConflictDoNothing();
}

export async function resumeSlackThread(deps: SlackDeps, ref: SlackTicketRef): Promise<void> {
  await deps.db
    .delete(slackPausedThreads)
    .where(and(eq(slackPausedThreads.integrationId, ref.integrationId), eq(slackPausedThreads.ticketId, ref.ticketId)));
}

export async function slackConnection(
  deps: SlackDeps & { clients: SlackClients },
  ref: SlackTicketRef,
): Promise<{ connected: boolean }> {
  const workspace = await workspaceOf(deps, ref.organizationId, ref.integrationId).catch(() => null);
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
