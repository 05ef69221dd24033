import { customers, type Database, type Executor, supportRequests, ticketComments, user } from '@switchboard/database';
import { and, asc, desc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import { recordAudit } from '../audit.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { emitTicketEvent } from './events.ts';
import {
  type AddCommentInput,
  addCommentInput,
  type CommentSource,
  type CommentView,
  type TimelinePageQuery,
  timelinePageQuery,
} from './schemas.ts';
import { assertTicketExists, lockTicket, toTicketSnapshot } from './ticket-record.ts';

/** Who wrote a comment. By default the scope's user; channels that relay other people name them. */
export type CommentAuthor = { userId: string } | { customerId: string } | { displayName: string };

export type AddCommentOptions = {
  source?: CommentSource;
  author?: CommentAuthor;
  /** The comment's id in the system it came from; a second comment with the same one is not added twice. */
  externalId?: string;
};

/**
 * Adds a comment and its `comment.created` event. A public comment by a user is the first response if
 * the ticket had none yet. Comments do not change the ticket's version: they do not edit its fields, and
 * an agent replying should not make a colleague's pending edit stale.
 */
export async function addComment(
  db: Database,
  scope: Scope,
  ticketId: string,
  rawInput: AddCommentInput,
  options: AddCommentOptions = {},
): Promise<CommentView> {
  const input = parseInput(addCommentInput, rawInput);
  const author = options.author ?? (scope.userId ? { userId: scope.userId } : { displayName: 'System' });
  const source = options.source ?? (scope.actor.type === 'api_key' ? 'api' : 'web');
  return db.transaction(async (tx) => {
    const ticket = await lockTicket(tx, scope.organizationId, ticketId);
    const [inserted] = await tx
      .insert(ticketComments)
      .values({
        organizationId: scope.organizationId,
        supportRequestId: ticketId,
        authorUserId: 'userId' in author ? author.userId : null,
        authorCustomerId: 'customerId' in author ? author.customerId : null,
        authorDisplayName: 'displayName' in author ? author.displayName : null,
        body: input.body,
        isPublic: input.isPublic,
        source,
        externalId: options.externalId ?? null,
      })
      .onConflictDoNothing()
      .returning();
    if (!inserted) return findExternalComment(tx, scope.organizationId, ticketId, source, options.externalId!);

    if (inserted.isPublic && inserted.authorUserId && !ticket.firstRespondedAt)
      await tx
        .update(supportRequests)
        .set({ firstRespondedAt: inserted.createdAt })
        .where(and(eq(supportRequests.id, ticketId), isNull(supportRequests.firstRespondedAt)));
    // Read back as the API shows it, so the event names the author the way the timeline does.
    const view = (await selectComments(tx, scope.organizationId, ticketId, { commentId: inserted.id }))[0]!.view;
    await emitTicketEvent(tx, scope, ticketId, 'comment.created', {
      ticket: toTicketSnapshot(ticket),
      comment: {
        id: inserted.id,
        isPublic: inserted.isPublic,
        source: inserted.source,
        body: inserted.body,
        author: view.author,
        authorUserId: inserted.authorUserId,
        authorCustomerId: inserted.authorCustomerId,
        authorDisplayName: inserted.authorDisplayName,
      },
    });
    await recordAudit(tx, scope, {
      action: 'comment.created',
      entityType: 'comment',
      entityId: inserted.id,
      metadata: { ticketId, isPublic: inserted.isPublic, source },
    });
    return view;
  });
}

export type CommentPage = { data: CommentView[]; nextCursor: string | null };

/** One page of the ticket's comments, oldest first (or newest first with order desc), keyed by (created_at, id). */
export async function listComments(
  db: Database,
  scope: Scope,
  ticketId: string,
  rawQuery: TimelinePageQuery = {},
): Promise<CommentPage> {
  const query = parseInput(timelinePageQuery, rawQuery);
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  await assertTicketExists(db, scope.organizationId, ticketId);
  const rows = await selectComments(db, scope.organizationId, ticketId, {
    order: query.order,
    limit: query.limit + 1,
    after: after
      ? sql`(${ticketComments.createdAt}, ${ticketComments.id}) ${sql.raw(query.order === 'asc' ? '>' : '<')} (${after.createdAt}::timestamptz, ${after.id}::uuid)`
      : undefined,
  });
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: page.map((r) => r.view),
    nextCursor:
      rows.length > query.limit && last ? encodeCursor({ createdAt: last.cursorTime, id: last.view.id }) : null,
  };
}

/** One comment of the ticket, its author resolved as the API shows it; undefined when there is none (in this org). */
export async function findComment(
  db: Executor,
  organizationId: string,
  ticketId: string,
  commentId: string,
): Promise<CommentView | undefined> {
  return (await selectComments(db, organizationId, ticketId, { commentId }))[0]?.view;
}

async function findExternalComment(
  tx: Executor,
  organizationId: string,
  ticketId: string,
  source: CommentSource,
  externalId: string,
): Promise<CommentView> {
  const [existing] = await tx
    .select({ id: ticketComments.id })
    .from(ticketComments)
    .where(
      and(
        eq(ticketComments.supportRequestId, ticketId),
        eq(ticketComments.source, source),
        eq(ticketComments.externalId, externalId),
      ),
    );
  return (await selectComments(tx, organizationId, ticketId, { commentId: existing!.id }))[0]!.view;
}

type CommentSelection = { commentId?: string; after?: SQL; order?: 'asc' | 'desc'; limit?: number };

async function selectComments(
  db: Executor,
  organizationId: string,
  ticketId: string,
  { commentId, after, order = 'asc', limit }: CommentSelection,
): Promise<Array<{ view: CommentView; cursorTime: string }>> {
  const direction = order === 'asc' ? asc : desc;
  const selection = db
    .select({
      comment: ticketComments,
      userName: user.name,
      customerName: customers.name,
      customerEmail: customers.email,
      cursorTime: sql<string>`to_char(${ticketComments.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(ticketComments)
    .leftJoin(user, eq(user.id, ticketComments.authorUserId))
    .leftJoin(customers, eq(customers.id, ticketComments.authorCustomerId))
    .where(
      and(
        eq(ticketComments.organizationId, organizationId),
        eq(ticketComments.supportRequestId, ticketId),
        commentId ? eq(ticketComments.id, commentId) : undefined,
        after,
      ),
    )
    .orderBy(direction(ticketComments.createdAt), direction(ticketComments.id));
  const rows = await (limit === undefined ? selection : selection.limit(limit));
  return rows.map(({ comment, userName, customerName, customerEmail, cursorTime }) => ({
    cursorTime,
    view: {
      id: comment.id,
      ticketId: comment.supportRequestId,
      body: comment.body,
      isPublic: comment.isPublic,
      source: comment.source,
      author: comment.authorUserId
        ? { type: 'user', id: comment.authorUserId, name: userName ?? comment.authorDisplayName ?? 'Unknown user' }
        : comment.authorCustomerId
          ? {
              type: 'customer',
              id: comment.authorCustomerId,
              name: customerName ?? customerEmail ?? 'Unknown customer',
            }
          : { type: 'external', id: null, name: comment.authorDisplayName ?? 'Unknown' },
      createdAt: comment.createdAt.toISOString(),
    },
  }));
}
