// Everything one sync step decides on, read at once: the link and its settings, the ticket's synced fields with
// when each last changed, the issue as Linear holds it now (one query), what both sides held after the last sync,
// and the issue's comments that have no counterpart on the ticket yet.
import { type Database, externalCommentLinks, supportRequests, ticketEvents, user } from '@switchboard/database';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { allowedTeamIds } from '../../domain/integrations/linear-config.ts';
import type { LinearCommentPayload } from '../../workflows/linear-contract.ts';
import type { SyncedField, TicketPriority, TicketStatus } from '../../workflows/linear-sync-plan.ts';
import { callLinear, type LinearActivityDeps } from './call.ts';
import { findOurMirrors } from './comments.ts';
import { type LinkRef, type LinkSnapshot, linearFailureTypes } from './contract.ts';
import { outsideTeams, teamNotAllowed } from './find-issue.ts';
import { fetchIssueSnapshot, normalEmail } from './issue-query.ts';
import { loadLink } from './link-status.ts';

export async function readLinkSnapshot(deps: LinearActivityDeps, ref: LinkRef): Promise<LinkSnapshot> {
  const link = await loadLink(deps.db, ref);
  if (!link) return { link: 'unlinked' };
  const ticket = await readTicketSide(deps.db, ref.organizationId, link.ticketId);
  if (!ticket) return { link: 'unlinked' };

  const issue = await callLinear(deps, link, (linear) => fetchIssueSnapshot(linear, link.issueId), {
    linkId: link.id,
  });
  if (issue.trashed)
    throw ApplicationFailure.create({
      type: linearFailureTypes.issueNotFound,
      message: `the Linear issue ${issue.display.identifier} was deleted`,
      nonRetryable: true,
    });
  // Moved in Linear to a team this installation may not link (a private one, say): nothing more flows either way
  // until it is back in an allowed team or an admin allows its team, and the link is retried. An installation that
  // has no team chosen at all keeps the links made before teams were checked.
  const allowed = allowedTeamIds(link.config);
  if (allowed.length > 0 && !allowed.includes(issue.teamId))
    throw teamNotAllowed(outsideTeams(issue.display.identifier, issue.teamKey));

  // A configured state of another team (the issue moved) would be refused by Linear: fall back to the defaults.
  const teamStateIds = new Set(issue.states.map((s) => s.id));
  const statusToLinear = Object.fromEntries(
    Object.entries(link.config.statusToLinear).filter(([, stateId]) => teamStateIds.has(stateId)),
  );

  return {
    link: 'active',
    settings: {
      statusToLinear,
      linearToStatus: link.config.linearToStatus,
      syncPriority: link.config.syncPriority,
      conflictPolicy: link.config.conflictPolicy,
      states: issue.states,
      firstSyncWinner: link.state.origin === 'linked' ? 'linear' : 'ticket',
      commentsToLinear: link.config.commentsToLinear,
      commentsFromLinear: link.config.commentsFromLinear,
      reconcileIntervalMs: link.config.reconcileIntervalMinutes * 60_000,
    },
    ticket,
    linear: {
      stateId: issue.stateId,
      priority: issue.priority,
      assigneeEmail: issue.assigneeEmail,
      updatedAt: issue.updatedAt,
    },
    issue: issue.display,
    lastSynced: link.state.lastSynced ?? null,
    unmappedLinearComments: await unmappedComments(deps.db, link, issue.comments),
  };
}

async function readTicketSide(db: Database, organizationId: string, ticketId: string) {
  const [row] = await db
    .select({
      status: supportRequests.status,
      priority: supportRequests.priority,
      createdAt: supportRequests.createdAt,
      assigneeEmail: user.email,
    })
    .from(supportRequests)
    .leftJoin(user, eq(user.id, supportRequests.assigneeId))
    .where(and(eq(supportRequests.id, ticketId), eq(supportRequests.organizationId, organizationId)));
  if (!row) return null;
  // The last ticket.updated event that changed each field says when it changed; a field never changed since the
  // ticket was created changed then.
  const changed = await db.execute<Record<SyncedField, string | null>>(sql`
    select
      max(${ticketEvents.createdAt}) filter (where ${ticketEvents.payload}->'changes' ? 'status') as status,
      max(${ticketEvents.createdAt}) filter (where ${ticketEvents.payload}->'changes' ? 'priority') as priority,
      max(${ticketEvents.createdAt}) filter (where ${ticketEvents.payload}->'changes' ? 'assigneeId') as assignee
    from ${ticketEvents}
    where ${ticketEvents.organizationId} = ${organizationId}
      and ${ticketEvents.supportRequestId} = ${ticketId}
      and ${ticketEvents.type} = 'ticket.updated'`);
  const times = changed.rows[0];
  const created = row.createdAt.toISOString();
  const iso = (value: string | Date | null | undefined) => (value ? new Date(value).toISOString() : created);
  return {
    status: row.status as TicketStatus,
    priority: row.priority as TicketPriority,
    assigneeEmail: normalEmail(row.assigneeEmail),
    changedAt: { status: iso(times?.status), priority: iso(times?.priority), assignee: iso(times?.assignee) },
  };
}

/**
 * Issue comments with no ticket counterpart: not in this link's comment map, not one we mirrored (from this ticket
 * or another linked to the issue), and not older than the link (linking an issue does not replay its history onto
 * the ticket).
 */
async function unmappedComments(
  db: Database,
  link: { id: string; organizationId: string; issueId: string; createdAt: Date },
  comments: LinearCommentPayload[],
): Promise<LinearCommentPayload[]> {
  const recent = comments.filter((c) => Date.parse(c.createdAt) >= link.createdAt.getTime());
  if (recent.length === 0) return [];
  const ids = recent.map((c) => c.id);
  const mapped = await db
    .select({ id: externalCommentLinks.externalCommentId })
    .from(externalCommentLinks)
    .where(
      and(
        eq(externalCommentLinks.organizationId, link.organizationId),
        eq(externalCommentLinks.syncRecordId, link.id),
        inArray(externalCommentLinks.externalCommentId, ids),
      ),
    );
  const ours = await findOurMirrors(db, link, ids);
  const known = new Set([...mapped.map((m) => m.id), ...ours.keys()]);
  return recent.filter((c) => !known.has(c.id));
}
