// Comments both ways, each mapped to its counterpart per link (external_comment_links) so nothing is posted twice
// and our own mirror coming back from Linear is recognised. A mirrored comment's Linear id is derived from the
// link and the ticket comment: a retried attempt finds the comment its predecessor created instead of another.
import {
  type Database,
  type Executor,
  externalCommentLinks,
  externalSyncRecords,
  supportRequests,
  ticketComments,
} from '@switchboard/database';
import { and, eq, inArray } from 'drizzle-orm';
import { allowedTeamIds } from '../../domain/integrations/linear-config.ts';
import type { Scope } from '../../domain/scope.ts';
import { addComment, findComment } from '../../domain/tickets/comments.ts';
import type { LinearCommentPayload } from '../../workflows/linear-contract.ts';
import { callLinear, isNotFound, type LinearActivityDeps, rawRequest } from './call.ts';
import { mirroredCommentId } from './comment-ids.ts';
import type { LinkRef } from './contract.ts';
import { teamNotAllowed } from './find-issue.ts';
import { type LinkRow, requireLink } from './link-status.ts';

const COMMENT_BY_ID = `query SwitchboardComment($id: String!) { comment(id: $id) { id issueId } }`;
const ISSUE_TEAM = `query SwitchboardIssueTeam($id: String!) { issue(id: $id) { team { id } } }`;
const COMMENT_CREATE = `
  mutation SwitchboardCommentCreate($input: CommentCreateInput!) {
    commentCreate(input: $input) { success comment { id } }
  }
`;

export async function mirrorTicketComment(
  deps: LinearActivityDeps,
  ref: LinkRef & { commentId: string },
): Promise<{ linearCommentId: string | null }> {
  const link = await requireLink(deps.db, ref);
  const policy = link.config.commentsToLinear;
  if (policy === 'none') return { linearCommentId: null };
  const comment = await loadComment(deps.db, link, ref.commentId);
  // Comments that came from Linear are already there; internal notes only go where the installation says so.
  if (!comment || comment.source === 'linear') return { linearCommentId: null };
  if (!comment.isPublic && policy !== 'all') return { linearCommentId: null };

  const [mapped] = await deps.db
    .select({ externalId: externalCommentLinks.externalCommentId })
    .from(externalCommentLinks)
    .where(
      and(
        eq(externalCommentLinks.organizationId, ref.organizationId),
        eq(externalCommentLinks.syncRecordId, link.id),
        eq(externalCommentLinks.ticketCommentId, comment.id),
      ),
    );
  if (mapped) return { linearCommentId: mapped.externalId };

  const linearCommentId = mirroredCommentId(link.id, comment.id);
  const asApp = link.config.actor === 'app';
  await callLinear(
    deps,
    link,
    async (linear) => {
      try {
        await rawRequest(linear, COMMENT_BY_ID, { id: linearCommentId });
        return; // An earlier attempt created it and lost the answer.
      } catch (err) {
        if (!(await isNotFound(err))) throw err;
      }
      // The issue may have moved to a team this installation may not link (a private one) since the link's last
      // sync step: a ticket's reply or note must not land there before the next step pauses the link.
      const allowed = allowedTeamIds(link.config);
      if (allowed.length > 0) {
        const found = (await rawRequest(linear, ISSUE_TEAM, { id: link.issueId })) as {
          issue: { team: { id: string } };
        };
        if (!allowed.includes(found.issue.team.id))
          throw teamNotAllowed(
            'the linked issue is now in a Linear team whose issues this installation may not link: the comment was not copied',
          );
      }
      const input: Record<string, unknown> = {
        id: linearCommentId,
        issueId: link.issueId,
        body: mirrorBody(comment, asApp),
      };
      // An app token posts as the application; Linear then shows the author's name on the comment.
      if (asApp) input.createAsUser = comment.authorName;
      await rawRequest(linear, COMMENT_CREATE, { input });
    },
    { requests: 3, linkId: link.id },
  );
  await deps.db
    .insert(externalCommentLinks)
    .values({
      organizationId: ref.organizationId,
      syncRecordId: link.id,
      ticketCommentId: comment.id,
      externalCommentId: linearCommentId,
      direction: 'outbound',
    })
    .onConflictDoNothing();
  return { linearCommentId };
}

type TicketComment = {
  id: string;
  body: string;
  isPublic: boolean;
  source: string;
  authorName: string;
  ticketNumber: number;
};

async function loadComment(db: Database, link: LinkRow, commentId: string): Promise<TicketComment | null> {
  const comment = await findComment(db, link.organizationId, link.ticketId, commentId);
  if (!comment) return null;
  const [ticket] = await db
    .select({ number: supportRequests.number })
    .from(supportRequests)
    .where(and(eq(supportRequests.id, link.ticketId), eq(supportRequests.organizationId, link.organizationId)));
  if (!ticket) return null;
  return {
    id: comment.id,
    body: comment.body,
    isPublic: comment.isPublic,
    source: comment.source,
    authorName: comment.author.name,
    ticketNumber: ticket.number,
  };
}

export function mirrorBody(comment: TicketComment, asApp: boolean): string {
  const what = comment.isPublic ? 'replied' : 'added an internal note';
  const header = asApp
    ? `${comment.isPublic ? 'Reply' : 'Internal note'} on ticket #${comment.ticketNumber}:`
    : `**${escapeMarkdown(comment.authorName)}** ${what} on ticket #${comment.ticketNumber}:`;
  return `${header}\n\n${comment.body}`;
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\*_`[\]])/g, '\\$1');
}

export async function importLinearComment(
  deps: LinearActivityDeps,
  ref: LinkRef & { comment: LinearCommentPayload },
): Promise<{ ticketCommentId: string | null }> {
  const link = await requireLink(deps.db, ref);
  const [mapped] = await deps.db
    .select({ ticketCommentId: externalCommentLinks.ticketCommentId, direction: externalCommentLinks.direction })
    .from(externalCommentLinks)
    .where(
      and(
        eq(externalCommentLinks.organizationId, ref.organizationId),
        eq(externalCommentLinks.syncRecordId, link.id),
        eq(externalCommentLinks.externalCommentId, ref.comment.id),
      ),
    );
  // Our own mirror coming back, or a comment imported already (a retry, a duplicate webhook).
  if (mapped) return { ticketCommentId: mapped.direction === 'inbound' ? mapped.ticketCommentId : null };
  // A mirror posted from this ticket or from another ticket linked to the same issue.
  if (await isOurMirror(deps.db, link, ref.comment.id)) return { ticketCommentId: null };

  const policy = link.config.commentsFromLinear;
  if (policy === 'none') return { ticketCommentId: null };
  const body = ref.comment.body.trim();
  if (body === '') return { ticketCommentId: null };
  const scope: Scope = {
    organizationId: ref.organizationId,
    actor: { type: 'integration', id: link.integrationId },
    userId: null,
  };
  const created = await addComment(
    deps.db,
    scope,
    link.ticketId,
    { body: body.slice(0, 65_535), isPublic: policy === 'public' },
    { source: 'linear', externalId: ref.comment.id, author: { displayName: `${ref.comment.authorName} via Linear` } },
  );
  await deps.db
    .insert(externalCommentLinks)
    .values({
      organizationId: ref.organizationId,
      syncRecordId: link.id,
      ticketCommentId: created.id,
      externalCommentId: ref.comment.id,
      direction: 'inbound',
    })
    .onConflictDoNothing();
  return { ticketCommentId: created.id };
}

/**
 * Which of these Linear comments Switchboard posted itself, from this ticket or any other ticket of the
 * organisation linked to the same issue (its webhook reaches every link of the issue, and a reply to one customer
 * must not become a comment on another's ticket): by their outbound mapping, or, while that is not written yet
 * (the create's answer was lost, the activity retries), by the id we derive for a mirror.
 */
export async function findOurMirrors(
  db: Executor,
  link: { organizationId: string; issueId: string },
  linearCommentIds: string[],
): Promise<Map<string, { syncRecordId: string; ticketCommentId: string; mapped: boolean }>> {
  const found = new Map<string, { syncRecordId: string; ticketCommentId: string; mapped: boolean }>();
  if (linearCommentIds.length === 0) return found;
  const mapped = await db
    .select({
      externalId: externalCommentLinks.externalCommentId,
      syncRecordId: externalCommentLinks.syncRecordId,
      ticketCommentId: externalCommentLinks.ticketCommentId,
    })
    .from(externalCommentLinks)
    .where(
      and(
        eq(externalCommentLinks.organizationId, link.organizationId),
        eq(externalCommentLinks.direction, 'outbound'),
        inArray(externalCommentLinks.externalCommentId, linearCommentIds),
      ),
    );
  for (const m of mapped) found.set(m.externalId, { ...m, mapped: true });
  const wanted = new Set(linearCommentIds.filter((id) => !found.has(id)));
  if (wanted.size === 0) return found;

  const comments = await db
    .select({ syncRecordId: externalSyncRecords.id, ticketCommentId: ticketComments.id })
    .from(externalSyncRecords)
    .innerJoin(
      ticketComments,
      and(
        eq(ticketComments.organizationId, externalSyncRecords.organizationId),
        eq(ticketComments.supportRequestId, externalSyncRecords.supportRequestId),
      ),
    )
    .where(
      and(
        eq(externalSyncRecords.organizationId, link.organizationId),
        eq(externalSyncRecords.externalId, link.issueId),
      ),
    );
  for (const c of comments) {
    const derived = mirroredCommentId(c.syncRecordId, c.ticketCommentId);
    if (wanted.has(derived)) found.set(derived, { ...c, mapped: false });
  }
  return found;
}

/** Our mirror coming back: true, and its mapping recorded for the link that posted it if it was missing. */
async function isOurMirror(db: Database, link: LinkRow, linearCommentId: string): Promise<boolean> {
  const mirror = (await findOurMirrors(db, link, [linearCommentId])).get(linearCommentId);
  if (!mirror) return false;
  if (!mirror.mapped)
    await db
      .insert(externalCommentLinks)
      .values({
        organizationId: link.organizationId,
        syncRecordId: mirror.syncRecordId,
        ticketCommentId: mirror.ticketCommentId,
        externalCommentId: linearCommentId,
        direction: 'outbound',
      })
      .onConflictDoNothing();
  return true;
}
