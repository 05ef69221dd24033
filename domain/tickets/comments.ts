import { customers, type Database, type Executor, supportRequests, ticketComments, user } from '@switchboard/database';
import { and, asc, eq, isNull } from 'drizzle-orm';
import { recordAudit } from '../audit.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { emitTicketEvent } from './events.ts';
import { type AddCommentInput, addCommentInput, type CommentSource, type CommentView } from './schemas.ts';
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
    await emitTicketEvent(tx, scope, ticketId, 'comment.created', {
      ticket: toTicketSnapshot(ticket),
      comment: {
        id: inserted.id,
        isPublic: inserted.isPublic,
        source: inserted.source,
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
    return (await selectComments(tx, scope.organizationId, ticketId, inserted.id))[0]!;
  });
}

/** The ticket's comments, oldest first. */
export async function listComments(db: Database, scope: Scope, ticketId: string): Promise<CommentView[]> {
  await assertTicketExists(db, scope.organizationId, ticketId);
  return selectComments(db, scope.organizationId, ticketId);
}

/** One comment of the ticket, its author resolved as the API shows it; undefined when there is none (in this org). */
export async function findComment(
  db: Executor,
  organizationId: string,
  ticketId: string,
  commentId: string,
): Promise<CommentView | undefined> {
  return (await selectComments(db, organizationId, ticketId, commentId))[0];
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
  return (await selectComments(tx, organizationId, ticketId, existing!.id))[0]!;
}

async function selectComments(
  db: Executor,
  organizationId: string,
  ticketId: string,
  commentId?: string,
): Promise<CommentView[]> {
  const rows = await db
    .select({
      comment: ticketComments,
      userName: user.name,
      customerName: customers.name,
      customerEmail: customers.email,
    })
    .from(ticketComments)
    .leftJoin(user, eq(user.id, ticketComments.authorUserId))
    .leftJoin(customers, eq(customers.id, ticketComments.authorCustomerId))
    .where(
      and(
        eq(ticketComments.organizationId, organizationId),
        eq(ticketComments.supportRequestId, ticketId),
        commentId ? eq(ticketComments.id, commentId) : undefined,
      ),
    )
    .orderBy(asc(ticketComments.createdAt), asc(ticketComments.id));
  return rows.map(({ comment, userName, customerName, customerEmail }) => ({
    id: comment.id,
    ticketId: comment.supportRequestId,
    body: comment.body,
    isPublic: comment.isPublic,
    source: comment.source,
    author: comment.authorUserId
      ? { type: 'user', id: comment.authorUserId, name: userName ?? comment.authorDisplayName ?? 'Unknown user' }
      : comment.authorCustomerId
        ? { type: 'customer', id: comment.authorCustomerId, name: customerName ?? customerEmail ?? 'Unknown customer' }
        : { type: 'external', id: null, name: comment.authorDisplayName ?? 'Unknown' },
    createdAt: comment.createdAt.toISOString(),
  }));
}
