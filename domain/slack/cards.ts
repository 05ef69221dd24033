// The facts Slack messages show, read from the database at the moment of posting (so an edited parent shows the
// ticket as it is, and no ticket text travels through workflow history), and the people on both sides.
import {
  customers,
  type Executor,
  member,
  slackUserSettings,
  supportRequests,
  ticketComments,
  ticketEvents,
  user,
} from '@switchboard/database';
import { and, eq, inArray } from 'drizzle-orm';
import type { TicketCard } from '../../common/slack/blocks.ts';
import type { TicketFacts } from '../../workflows/slack-thread-plan.ts';
import { memberById } from '../members/lookup.ts';

export function ticketUrl(publicUrl: string, ticketId: string): string {
  return `${publicUrl.replace(/\/$/, '')}/tickets/${ticketId}`;
}

export type TicketForSlack = { card: TicketCard; facts: TicketFacts };

export async function ticketForSlack(
  db: Executor,
  publicUrl: string,
  organizationId: string,
  ticketId: string,
  now = new Date(),
): Promise<TicketForSlack | null> {
  const [row] = await db
    .select({
      ticket: supportRequests,
      requesterEmail: customers.email,
      requesterName: customers.name,
      assigneeName: user.name,
      assigneeEmail: user.email,
    })
    .from(supportRequests)
    .leftJoin(customers, eq(customers.id, supportRequests.requesterId))
    .leftJoin(user, eq(user.id, supportRequests.assigneeId))
    .where(and(eq(supportRequests.id, ticketId), eq(supportRequests.organizationId, organizationId)));
  if (!row) return null;
  const t = row.ticket;
  return {
    card: {
      id: t.id,
      number: t.number,
      subject: t.subject,
      status: t.status,
      priority: t.priority,
      requester: row.requesterEmail ? { email: row.requesterEmail, name: row.requesterName } : null,
      assigneeName: t.assigneeId ? (row.assigneeName ?? row.assigneeEmail ?? 'someone') : null,
      sla: slaOf(t, now),
      url: ticketUrl(publicUrl, t.id),
    },
    facts: {
      priority: t.priority,
      status: t.status,
      tags: t.tags,
      assigneeId: t.assigneeId,
      requesterEmail: row.requesterEmail,
      channel: t.channel,
    },
  };
}

/** The clock that runs out next: the first response until someone answered, then the resolution until solved. */
function slaOf(t: typeof supportRequests.$inferSelect, now: Date): TicketCard['sla'] {
  if (t.status === 'solved' || t.status === 'closed') return null;
  const clock =
    !t.firstRespondedAt && t.firstResponseDueAt
      ? { kind: 'first_response' as const, due: t.firstResponseDueAt }
      : t.resolutionDueAt
        ? { kind: 'resolution' as const, due: t.resolutionDueAt }
        : null;
  if (!clock) return null;
  return { kind: clock.kind, dueAt: clock.due.toISOString(), breached: clock.due.getTime() <= now.getTime() };
}

/** Agents of the organisation who asked for their assignments by DM. */
export async function dmAssignmentUsers(db: Executor, organizationId: string): Promise<string[]> {
  const rows = await db
    .select({ userId: slackUserSettings.userId })
    .from(slackUserSettings)
    .where(and(eq(slackUserSettings.organizationId, organizationId), eq(slackUserSettings.dmAssignments, true)));
  return rows.map((r) => r.userId);
}

/** Agents of the organisation who asked for their mentions by DM, with what a mention of them looks like. */
export async function dmMentionCandidates(db: Executor, organizationId: string) {
  return db
    .select({ userId: user.id, email: user.email, name: user.name })
    .from(slackUserSettings)
    .innerJoin(user, eq(user.id, slackUserSettings.userId))
    .innerJoin(member, and(eq(member.userId, user.id), eq(member.organizationId, organizationId)))
    .where(and(eq(slackUserSettings.organizationId, organizationId), eq(slackUserSettings.dmMentions, true)));
}

export type StoredEvent = { id: number; type: string; payload: unknown; actorType: string; actorId: string | null };

export async function ticketEventsByIds(
  db: Executor,
  organizationId: string,
  ticketId: string,
  ids: readonly number[],
): Promise<StoredEvent[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({
      id: ticketEvents.id,
      type: ticketEvents.type,
      payload: ticketEvents.payload,
      actorType: ticketEvents.actorType,
      actorId: ticketEvents.actorId,
    })
    .from(ticketEvents)
    .where(
      and(
        inArray(ticketEvents.id, [...ids]),
        eq(ticketEvents.organizationId, organizationId),
        eq(ticketEvents.supportRequestId, ticketId),
      ),
    )
    .orderBy(ticketEvents.id);
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** Who did it, as a thread note names them: a member's name, or nothing for system and integration changes. */
export async function actorName(db: Executor, organizationId: string, event: StoredEvent): Promise<string | null> {
  if (event.actorType !== 'user' || !event.actorId) return null;
  return (await memberById(db, organizationId, event.actorId))?.name ?? null;
}

export async function commentAuthorName(db: Executor, commentId: string): Promise<string | null> {
  const [row] = await db
    .select({ name: user.name, display: ticketComments.authorDisplayName, customer: customers.email })
    .from(ticketComments)
    .leftJoin(user, eq(user.id, ticketComments.authorUserId))
    .leftJoin(customers, eq(customers.id, ticketComments.authorCustomerId))
    .where(eq(ticketComments.id, commentId));
  return row ? (row.name ?? row.display ?? row.customer ?? null) : null;
}
