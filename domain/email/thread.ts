// A ticket's email thread as agents see it (EmailThread), and the composer's send: an agent's email is a public
// comment of source `email` plus a queued outbound row, written together, so the timeline and the thread agree and
// the relay wakes the ticket's thread workflow to send it.
import { randomUUID } from 'node:crypto';
import {
  customers,
  type Database,
  emailInbound,
  integrationConfigs,
  supportRequests,
  ticketAttachments,
  ticketEmails,
} from '@switchboard/database';
import { and, asc, desc, eq, inArray, isNull } from 'drizzle-orm';
import { normalizeAddress, splitAddress } from '../../common/email/addresses.ts';
import { sanitizeEmailHtml } from '../../common/email/html.ts';
import { normalizeMessageId } from '../../common/email/message-id.ts';
import { newMessageId } from '../../common/email/outbound-headers.ts';
import { replySubject } from '../../common/email/subject.ts';
import { renderEmail } from '../../common/email/template.ts';
import { conflict, notFound, validationFailed } from '../../common/errors.ts';
import { recordAudit } from '../audit.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { addComment } from '../tickets/comments.ts';
import { assertTicketExists } from '../tickets/ticket-record.ts';
import { z } from '../zod.ts';
import { type EmailConfig, readEmailConfig } from './config.ts';

const authResults = z
  .object({
    dkim: z.string(),
    spf: z.string(),
    dmarc: z.string(),
    arc: z.string().nullable(),
    dmarcPolicy: z.string().nullable(),
    dkimDomains: z.array(z.string()),
    spfDomain: z.string().nullable(),
  })
  .openapi('EmailAuthResults');

export const emailView = z.object({
  id: z.uuid(),
  ticketId: z.uuid(),
  integrationId: z.uuid().nullable(),
  direction: z.enum(['inbound', 'outbound']),
  status: z.enum(['received', 'queued', 'sent', 'failed']),
  kind: z.enum(['message', 'reply', 'auto_reply']),
  messageId: z.string(),
  from: z.string(),
  to: z.array(z.string()),
  cc: z.array(z.string()),
  subject: z.string(),
  /** The text without quoted replies and signature; `text` is the whole. */
  displayText: z.string(),
  text: z.string(),
  /** Sanitised for display. */
  html: z.string().nullable(),
  inReplyTo: z.string().nullable(),
  references: z.array(z.string()),
  auth: authResults.nullable(),
  authFlagged: z.boolean().describe('Failed DMARC; the mailbox accepts such mail with a warning'),
  automated: z.boolean(),
  attachmentIds: z.array(z.uuid()),
  attachmentRefusals: z.array(
    z
      .object({ fileName: z.string(), size: z.number().nullable(), reason: z.string() })
      .openapi('EmailAttachmentRefusal'),
  ),
  failureReason: z
    .string()
    .nullable()
    .describe('Failed: why it was not delivered. Still queued: why its last attempt did not go through'),
  nextAttemptAt: z
    .string()
    .nullable()
    .describe('Queued after a failed attempt (server unreachable, 4xx, mailbox off): not tried again before this'),
  commentId: z.uuid().nullable(),
  sentAt: z.string().nullable(),
  createdAt: z.string(),
});
export type EmailView = z.infer<typeof emailView>;

type EmailRow = typeof ticketEmails.$inferSelect;

function toEmailView(row: EmailRow): EmailView {
  return {
    id: row.id,
    ticketId: row.supportRequestId,
    integrationId: row.integrationId,
    direction: row.direction,
    status: row.status,
    kind: row.kind as EmailView['kind'],
    messageId: row.messageId,
    from: row.fromAddress,
    to: row.toAddresses,
    cc: row.ccAddresses,
    subject: row.subject,
    displayText: row.displayText ?? row.content,
    text: row.content,
    html: row.htmlContent,
    inReplyTo: row.inReplyTo,
    references: row.references,
    auth: row.authResults,
    authFlagged: row.authFlagged,
    automated: row.automated,
    attachmentIds: row.attachmentIds,
    attachmentRefusals: row.attachmentRefusals,
    failureReason: row.failureReason,
    // Also a send's claim (activities/email/send.ts claimRow): shown only when an attempt did not go through.
    nextAttemptAt: row.failureReason ? (row.nextAttemptAt?.toISOString() ?? null) : null,
    commentId: row.commentId,
    sentAt: row.sentAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The ticket's emails, oldest first; a 404 for another organisation's ticket. */
export async function listTicketEmails(db: Database, scope: Scope, ticketId: string): Promise<EmailView[]> {
  await assertTicketExists(db, scope.organizationId, ticketId);
  const rows = await db
    .select()
    .from(ticketEmails)
    .where(and(eq(ticketEmails.organizationId, scope.organizationId), eq(ticketEmails.supportRequestId, ticketId)))
    .orderBy(asc(ticketEmails.createdAt), asc(ticketEmails.id));
  return rows.map(toEmailView);
}

const address = z.email().max(320);
export const composeEmailInput = z
  .object({
    /** The mailbox to send from; left out: the one the thread's last mail came through, or the only one. */
    integrationId: z.uuid().optional(),
    to: z.array(address).min(1, 'name at least one recipient').max(20),
    cc: z.array(address).max(20).default([]),
    /** Left out: `Re: [#n] <the thread's subject>`. */
    subject: z.string().trim().min(1).max(500).optional(),
    bodyText: z.string().trim().min(1, 'the email needs a text').max(65_535),
    /** The composer's rich text; sanitised, and the text above is its plain-text alternative. */
    bodyHtml: z.string().max(200_000).optional(),
    /** Files already attached to the ticket (FileUploadZone), sent with the email once they are scanned clean. */
    attachmentIds: z.array(z.uuid()).max(20).default([]),
    /** The same key never sends twice (a double click, a retried request). */
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .strict();
export type ComposeEmailInput = z.input<typeof composeEmailInput>;

type MailboxRow = { id: string; config: EmailConfig };

/** The mailbox a send from this ticket goes through. */
async function mailboxForSend(
  db: Database,
  scope: Scope,
  ticketId: string,
  integrationId: string | undefined,
): Promise<MailboxRow> {
  const rows = await db
    .select({ id: integrationConfigs.id, config: integrationConfigs.config })
    .from(integrationConfigs)
    .where(
      and(
        eq(integrationConfigs.organizationId, scope.organizationId),
        eq(integrationConfigs.integrationType, 'email'),
        eq(integrationConfigs.isActive, true),
      ),
    );
  const mailboxes = rows.map((r) => ({ id: r.id, config: readEmailConfig(r.config) })).filter((m) => m.config.smtp);
  if (integrationId) {
    const chosen = mailboxes.find((m) => m.id === integrationId);
    if (!chosen)
      throw validationFailed('no such mailbox', [
        { path: 'body.integrationId', message: 'not an active email integration of this organisation that sends' },
      ]);
    return chosen;
  }
  const [last] = await db
    .select({ integrationId: ticketEmails.integrationId })
    .from(ticketEmails)
    .where(and(eq(ticketEmails.supportRequestId, ticketId), eq(ticketEmails.organizationId, scope.organizationId)))
    .orderBy(desc(ticketEmails.createdAt))
    .limit(1);
  const threadMailbox = mailboxes.find((m) => m.id === last?.integrationId);
  if (threadMailbox) return threadMailbox;
  if (mailboxes.length === 1) return mailboxes[0]!;
  if (mailboxes.length === 0) throw conflict('no email integration that sends (SMTP) is set up and active');
  throw validationFailed('choose the mailbox', [
    { path: 'body.integrationId', message: 'several mailboxes send; name the one to use' },
  ]);
}

/** What the composer's send would look like, without sending: the template preview. */
export async function previewEmail(db: Database, scope: Scope, ticketId: string, rawInput: ComposeEmailInput) {
  const input = parseInput(composeEmailInput, rawInput);
  const ticket = await ticketOf(db, scope, ticketId);
  const mailbox = await mailboxForSend(db, scope, ticketId, input.integrationId);
  const rendered = renderEmail({
    kind: 'reply',
    branding: {
      name: mailbox.config.branding.name ?? mailbox.config.fromName ?? mailbox.config.address,
      ...(mailbox.config.branding.accentColor ? { accentColor: mailbox.config.branding.accentColor } : {}),
      ...(mailbox.config.branding.footer ? { footer: mailbox.config.branding.footer } : {}),
    },
    ticket: { number: ticket.number, subject: ticket.subject },
    bodyText: input.bodyText,
    ...(input.bodyHtml ? { bodyHtml: await sanitizeEmailHtml(input.bodyHtml) } : {}),
  });
  return {
    from: mailbox.config.address,
    to: input.to.map(normalizeAddress),
    cc: input.cc.map(normalizeAddress),
    subject: input.subject ?? replySubject(ticket.subject, ticket.number),
    html: rendered.html,
    text: rendered.text,
  };
}

/**
 * Queues an agent's email: a public comment (source email) and the outbound row in one transaction; the relay then
 * wakes the ticket's thread workflow, which sends it. The same idempotency key answers the first send again.
 */
export async function composeEmail(
  db: Database,
  scope: Scope,
  ticketId: string,
  rawInput: ComposeEmailInput,
): Promise<EmailView> {
  const input = parseInput(composeEmailInput, rawInput);
  const ticket = await ticketOf(db, scope, ticketId);
  const sourceKey = `compose:${input.idempotencyKey ?? randomUUID()}`;
  const existing = await bySourceKey(db, scope.organizationId, sourceKey);
  if (existing) {
    if (existing.supportRequestId !== ticketId)
      throw conflict('this idempotencyKey was used for an email on another ticket');
    return toEmailView(existing);
  }
  const mailbox = await mailboxForSend(db, scope, ticketId, input.integrationId);
  if (input.attachmentIds.length > 0) {
    const found = await db
      .select({ id: ticketAttachments.id, status: ticketAttachments.scanStatus })
      .from(ticketAttachments)
      .where(
        and(
          inArray(ticketAttachments.id, input.attachmentIds),
          eq(ticketAttachments.organizationId, scope.organizationId),
          eq(ticketAttachments.supportRequestId, ticketId),
          isNull(ticketAttachments.deletedAt),
        ),
      );
    const usable = new Set(found.filter((f) => f.status === 'clean' || f.status === 'pending_scan').map((f) => f.id));
    const bad = input.attachmentIds.findIndex((id) => !usable.has(id));
    if (bad >= 0)
      throw validationFailed('an attachment cannot be sent', [
        {
          path: `body.attachmentIds.${bad}`,
          message:
            'not a file of this ticket that is clean or being scanned (blocked, failed and deleted files are not sent)',
        },
      ]);
  }
  const id = randomUUID();
  const html = input.bodyHtml ? await sanitizeEmailHtml(input.bodyHtml) : null;
  try {
    return await db.transaction(async (tx) => {
      const comment = await addComment(
        tx as unknown as Database,
        scope,
        ticketId,
        { body: input.bodyText, isPublic: true },
        { source: 'email' },
      );
      const [row] = await tx
        .insert(ticketEmails)
        .values({
          id,
          organizationId: scope.organizationId,
          supportRequestId: ticketId,
          integrationId: mailbox.id,
          messageId: normalizeMessageId(newMessageId(id, splitAddress(mailbox.config.address).domain)),
          direction: 'outbound',
          status: 'queued',
          kind: 'reply',
          fromAddress: normalizeAddress(mailbox.config.address),
          toAddresses: input.to.map(normalizeAddress),
          ccAddresses: input.cc.map(normalizeAddress),
          subject: input.subject ?? replySubject(ticket.subject, ticket.number),
          content: input.bodyText,
          htmlContent: html,
          commentId: comment.id,
          attachmentIds: input.attachmentIds,
          sentByUserId: scope.userId,
          sourceKey,
        })
        .returning();
      await recordAudit(tx, scope, {
        action: 'email.queued',
        entityType: 'ticket',
        entityId: ticketId,
        metadata: { emailId: id, integrationId: mailbox.id, recipients: input.to.length + input.cc.length },
      });
      return toEmailView(row!);
    });
  } catch (error) {
    // The same key sent twice at once: the other request's email stands.
    const raced = await bySourceKey(db, scope.organizationId, sourceKey);
    if (raced) return toEmailView(raced);
    throw error;
  }
}

async function bySourceKey(db: Database, organizationId: string, sourceKey: string) {
  const [row] = await db
    .select()
    .from(ticketEmails)
    .where(and(eq(ticketEmails.organizationId, organizationId), eq(ticketEmails.sourceKey, sourceKey)));
  return row;
}

async function ticketOf(db: Database, scope: Scope, ticketId: string) {
  const [ticket] = await db
    .select({ number: supportRequests.number, subject: supportRequests.subject, requester: customers.email })
    .from(supportRequests)
    .leftJoin(customers, eq(customers.id, supportRequests.requesterId))
    .where(and(eq(supportRequests.id, ticketId), eq(supportRequests.organizationId, scope.organizationId)));
  if (!ticket) throw notFound('ticket');
  return ticket;
}

// ---- Mail the mailboxes did not file (held for review, refused) ----------------------------------------------

export const inboundView = z.object({
  id: z.uuid(),
  integrationId: z.uuid(),
  messageId: z.string(),
  via: z.string(),
  status: z.enum(['ingested', 'held', 'refused', 'released', 'discarded']),
  reason: z.string().nullable(),
  from: z.string().nullable(),
  subject: z.string().nullable(),
  sizeBytes: z.number().nullable(),
  auth: authResults.nullable(),
  ticketId: z.uuid().nullable(),
  receivedAt: z.string(),
  decidedAt: z.string().nullable(),
});
export type InboundView = z.infer<typeof inboundView>;

export const inboundQuery = z
  .object({
    status: z.enum(['held', 'refused', 'ingested', 'released', 'discarded']).default('held'),
    integrationId: z.uuid().optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();

export async function listInbound(
  db: Database,
  scope: Scope,
  rawQuery: z.input<typeof inboundQuery>,
): Promise<InboundView[]> {
  const query = parseInput(inboundQuery, rawQuery);
  const rows = await db
    .select()
    .from(emailInbound)
    .where(
      and(
        eq(emailInbound.organizationId, scope.organizationId),
        eq(emailInbound.status, query.status),
        query.integrationId ? eq(emailInbound.integrationId, query.integrationId) : undefined,
      ),
    )
    .orderBy(desc(emailInbound.receivedAt))
    .limit(query.limit);
  return rows.map(toInboundView);
}

export function toInboundView(row: typeof emailInbound.$inferSelect): InboundView {
  return {
    id: row.id,
    integrationId: row.integrationId,
    messageId: row.messageId,
    via: row.via,
    status: row.status,
    reason: row.reason,
    from: row.fromAddress,
    subject: row.subject,
    sizeBytes: row.sizeBytes,
    auth: row.authResults,
    ticketId: row.ticketId,
    receivedAt: row.receivedAt.toISOString(),
    decidedAt: row.decidedAt?.toISOString() ?? null,
  };
}

/** One inbound row of the organisation, or a 404. */
export async function findInbound(db: Database, scope: Scope, inboundId: string) {
  const [row] = await db
    .select()
    .from(emailInbound)
    .where(and(eq(emailInbound.id, inboundId), eq(emailInbound.organizationId, scope.organizationId)));
  if (!row) throw notFound('inbound email');
  return row;
}

/** Drops a held message for good (its sealed copy is erased); a 409 unless it is held. */
export async function discardHeld(db: Database, scope: Scope, inboundId: string): Promise<InboundView> {
  await findInbound(db, scope, inboundId);
  const [row] = await db
    .update(emailInbound)
    .set({ status: 'discarded', heldMessage: null, decidedBy: scope.userId, decidedAt: new Date() })
    .where(
      and(
        eq(emailInbound.id, inboundId),
        eq(emailInbound.organizationId, scope.organizationId),
        eq(emailInbound.status, 'held'),
      ),
    )
    .returning();
  if (!row) throw conflict('this message is not held (it was released or discarded already)');
  await recordAudit(db, scope, {
    action: 'email.discarded',
    entityType: 'integration',
    entityId: row.integrationId,
    metadata: { inboundId, messageId: row.messageId },
  });
  return toInboundView(row);
}
