// Outbound mail: turning an agent's public comment into a queued reply, and sending a queued row over SMTP with
// nodemailer's pooled transport. A row is the send's record: it is written once (its source key), carries the
// Message-ID we generated, and moves queued → sent (or failed, with the server's words, on a 5xx). SMTP has no
// idempotency key, so the one gap left is a worker killed after the server accepted the message and before the row
// says sent: the retry sends the same message again, with the same Message-ID, which mail clients show once.
import { createHash, randomUUID } from 'node:crypto';
import {
  customers,
  type Database,
  supportRequests,
  ticketAttachments,
  ticketComments,
  ticketEmails,
  user,
} from '@switchboard/database';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { and, asc, desc, eq, inArray, isNull } from 'drizzle-orm';
import nodemailer, { type Transporter } from 'nodemailer';
import type { KeyRing } from '../../common/config.ts';
import { loadIntegrationCredentials } from '../../common/credentials.ts';
import { normalizeAddress, splitAddress } from '../../common/email/addresses.ts';
import { autoReplyHeaders } from '../../common/email/auto-reply.ts';
import { formatMessageId, normalizeMessageId } from '../../common/email/message-id.ts';
import { childThreadIndex, isThreadIndex, newMessageId, threadHeaders } from '../../common/email/outbound-headers.ts';
import { makeReplyToken, replyAddress } from '../../common/email/reply-token.ts';
import { replySubject } from '../../common/email/subject.ts';
import { renderEmail } from '../../common/email/template.ts';
import type { EmailConfig, EmailCredentials } from '../../domain/email/config.ts';
import { ourAddresses } from '../../domain/email/ingest.ts';
import { loadMailbox, replyTokenKey } from '../../domain/email/mailboxes.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import type { EmailSettings } from '../../packages/integrations/email/settings.ts';
import { openDownload } from '../files/downloads.ts';
import type { StoreDirectory } from '../files/stores.ts';
import { connectTarget, describeMailError } from './connect.ts';

export type SendDeps = {
  db: Database;
  credentialKeys: KeyRing;
  settings: EmailSettings;
  stores: StoreDirectory;
  /** The dashboard's address, for the "view your request" link in templates. */
  publicUrl?: string;
};

export type SendResult = { status: 'sent' | 'failed' | 'skipped'; reason?: string };

/** Our loop header's value: which mailbox sent it, without naming the integration id outright. */
export function loopHeaderValue(integrationId: string): string {
  return createHash('sha256').update(`switchboard-loop/${integrationId}`).digest('hex').slice(0, 24);
}

/** One pooled transport per mailbox and settings: a changed password or host gets a new pool. */
const transports = new Map<string, { transporter: Transporter; key: string }>();

export function closeTransports(): void {
  for (const { transporter } of transports.values()) transporter.close();
  transports.clear();
}

export function createSendActivities(deps: SendDeps) {
  return {
    /**
     * The reply a public comment of an agent becomes, queued once (`comment:<id>`), from the mailbox that last
     * received mail on the ticket, to its requester with the thread's other participants in copy. Null when the
     * comment does not go out by email (internal, not by an agent, the ticket has no email thread, the mailbox
     * cannot send).
     */
    async queueReplyForComment(input: {
      organizationId: string;
      ticketId: string;
      commentId: string;
    }): Promise<string | null> {
      const [comment] = await deps.db
        .select({
          body: ticketComments.body,
          isPublic: ticketComments.isPublic,
          source: ticketComments.source,
          authorUserId: ticketComments.authorUserId,
          authorName: user.name,
        })
        .from(ticketComments)
        .leftJoin(user, eq(user.id, ticketComments.authorUserId))
        .where(
          and(
            eq(ticketComments.id, input.commentId),
            eq(ticketComments.organizationId, input.organizationId),
            eq(ticketComments.supportRequestId, input.ticketId),
          ),
        );
      if (!comment?.isPublic || !comment.authorUserId || comment.source === 'email') return null;
      const thread = await loadThread(deps.db, input.organizationId, input.ticketId);
      const lastInbound = thread.emails.filter((e) => e.direction === 'inbound').at(-1);
      if (!lastInbound?.integrationId) return null;
      const mailbox = await loadMailbox(deps.db, input.organizationId, lastInbound.integrationId).catch(() => null);
      if (!mailbox?.config.smtp) return null;

      const ours = new Set(ourAddresses(mailbox.config));
      const requester = thread.requesterEmail ? normalizeAddress(thread.requesterEmail) : lastInbound.fromAddress;
      const copies = [...new Set([lastInbound.fromAddress, ...lastInbound.toAddresses, ...lastInbound.ccAddresses])]
        .map(normalizeAddress)
        .filter((a) => a !== requester && !ours.has(a) && !isOurPlusAddress(a, ours));
      const id = randomUUID();
      const [row] = await deps.db
        .insert(ticketEmails)
        .values({
          id,
          organizationId: input.organizationId,
          supportRequestId: input.ticketId,
          integrationId: mailbox.integrationId,
          messageId: normalizeMessageId(newMessageId(id, splitAddress(mailbox.config.address).domain)),
          direction: 'outbound',
          status: 'queued',
          kind: 'reply',
          fromAddress: normalizeAddress(mailbox.config.address),
          toAddresses: [requester],
          ccAddresses: copies,
          subject: replySubject(lastInbound.subject || thread.subject, thread.number),
          content: comment.body,
          commentId: input.commentId,
          sentByUserId: comment.authorUserId,
          sourceKey: `comment:${input.commentId}`,
        })
        .onConflictDoNothing()
        .returning({ id: ticketEmails.id });
      if (row) return row.id;
      const [existing] = await deps.db
        .select({ id: ticketEmails.id })
        .from(ticketEmails)
        .where(
          and(
            eq(ticketEmails.organizationId, input.organizationId),
            eq(ticketEmails.sourceKey, `comment:${input.commentId}`),
          ),
        );
      return existing?.id ?? null;
    },

    /** The ticket's queued outbound mail, oldest first. */
    async listQueuedEmails(input: { organizationId: string; ticketId: string }): Promise<string[]> {
      const rows = await deps.db
        .select({ id: ticketEmails.id })
        .from(ticketEmails)
        .where(
          and(
            eq(ticketEmails.organizationId, input.organizationId),
            eq(ticketEmails.supportRequestId, input.ticketId),
            eq(ticketEmails.direction, 'outbound'),
            eq(ticketEmails.status, 'queued'),
          ),
        )
        .orderBy(asc(ticketEmails.createdAt), asc(ticketEmails.id));
      return rows.map((r) => r.id);
    },

    /** Sends one queued row. A 5xx fails it for good (visible on the ticket); anything else is retried. */
    async sendEmail(input: { organizationId: string; emailId: string }): Promise<SendResult> {
      const [email] = await deps.db
        .select()
        .from(ticketEmails)
        .where(and(eq(ticketEmails.id, input.emailId), eq(ticketEmails.organizationId, input.organizationId)));
      if (email?.status !== 'queued') return { status: 'skipped' };
      const fail = async (reason: string): Promise<SendResult> => {
        await deps.db
          .update(ticketEmails)
          .set({ status: 'failed', failureReason: reason.slice(0, 1000), attempts: email.attempts + 1 })
          .where(and(eq(ticketEmails.id, email.id), eq(ticketEmails.status, 'queued')));
        return { status: 'failed', reason };
      };
      const mailbox = email.integrationId
        ? await loadMailbox(deps.db, input.organizationId, email.integrationId).catch(() => null)
        : null;
      if (!mailbox) return fail('the mailbox this email was to be sent from was deleted');
      if (!mailbox.config.smtp) return fail('the mailbox has no SMTP settings');
      if (!mailbox.isActive)
        // Switched off: the mail waits (nothing is lost) until it is switched on again.
        throw ApplicationFailure.create({
          type: 'MailboxDisabled',
          message: `the mailbox ${mailbox.config.address} is switched off; the email waits until it is on again`,
        });

      const thread = await loadThread(deps.db, input.organizationId, email.supportRequestId);
      // The mail before this one that the customer has (received, or sent by us), in order.
      const earlier = thread.emails.filter(
        (e) => e.id !== email.id && e.createdAt <= email.createdAt && (e.status === 'received' || e.status === 'sent'),
      );
      // Stored bare; threadHeaders answers in header form (<id>).
      const fromThread = threadHeaders(earlier);
      const inReplyTo = email.inReplyTo ?? (fromThread.inReplyTo ? normalizeMessageId(fromThread.inReplyTo) : null);
      const references = email.references.length > 0 ? email.references : fromThread.references.map(normalizeMessageId);
      // The customer's Outlook wrote it: used only when it is well formed.
      const parentIndex =
        [...earlier].reverse().find((e) => e.threadIndex && isThreadIndex(e.threadIndex))?.threadIndex ?? null;
      const key = await replyTokenKey(deps.db, deps.credentialKeys, mailbox);
      const replyTo = replyAddress(mailbox.config.address, makeReplyToken(email.supportRequestId, key));
      const rendered = renderEmail({
        kind: email.kind === 'auto_reply' ? 'auto_reply' : 'reply',
        branding: {
          name: mailbox.config.branding.name ?? mailbox.config.fromName ?? mailbox.name,
          ...brandingOf(mailbox.config),
        },
        ticket: { number: thread.number, subject: thread.subject },
        bodyText: email.content,
        ...(email.htmlContent ? { bodyHtml: email.htmlContent } : {}),
      });
      const attachments = await attachmentsOf(deps, input.organizationId, email.attachmentIds);

      const credentials = (await loadIntegrationCredentials(
        deps.db,
        deps.credentialKeys,
        mailbox.organizationId,
        mailbox.integrationId,
      )) as EmailCredentials | null;
      const smtp = mailbox.config.smtp;
      try {
        const transporter = await transportFor(deps, mailbox.integrationId, mailbox.config, credentials);
        await transporter.sendMail({
          messageId: formatMessageId(email.messageId),
          from: { name: mailbox.config.fromName ?? mailbox.name, address: mailbox.config.address },
          replyTo,
          to: email.toAddresses,
          ...(email.ccAddresses.length > 0 ? { cc: email.ccAddresses } : {}),
          subject: email.subject,
          text: rendered.text,
          html: rendered.html,
          ...(inReplyTo ? { inReplyTo: formatMessageId(inReplyTo) } : {}),
          ...(references.length > 0 ? { references: references.map(formatMessageId) } : {}),
          headers: {
            ...(email.kind === 'auto_reply'
              ? autoReplyHeaders(loopHeaderValue(mailbox.integrationId))
              : { 'X-Switchboard-Loop': loopHeaderValue(mailbox.integrationId) }),
            ...(parentIndex ? { 'Thread-Index': childThreadIndex(parentIndex, new Date()) } : {}),
          },
          attachments,
        });
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        const described = describeMailError(error, 'SMTP', smtp.host);
        if (described.type === 'MailConfigError') {
          // The deployment refuses these settings (no TLS, a private address): no retry gets the mail out, and the
          // thread workflow does not retry it, so the row says so on the ticket instead of staying queued for ever.
          await recordIntegrationOutcome(deps.db, mailbox.organizationId, mailbox.integrationId, {
            ok: false,
            error: `a reply on ticket #${thread.number} was not sent: ${described.message}`,
          });
          return fail(`not sent: ${described.message}`);
        }
        if (code !== undefined && code >= 500 && code < 600) {
          await recordIntegrationOutcome(deps.db, mailbox.organizationId, mailbox.integrationId, {
            ok: false,
            error: `a reply on ticket #${thread.number} was refused: ${described.message}`,
          });
          return fail(`the mail server refused it: ${described.message}`);
        }
        await deps.db
          .update(ticketEmails)
          .set({ attempts: email.attempts + 1, failureReason: `retrying: ${described.message}`.slice(0, 1000) })
          .where(eq(ticketEmails.id, email.id));
        await recordIntegrationOutcome(deps.db, mailbox.organizationId, mailbox.integrationId, {
          ok: false,
          error: `${described.message}; replies wait and are retried (attempt ${Context.current().info.attempt})`,
        });
        throw ApplicationFailure.create({ type: 'MailSendError', message: described.message });
      }
      await deps.db
        .update(ticketEmails)
        .set({
          status: 'sent',
          sentAt: new Date(),
          attempts: email.attempts + 1,
          failureReason: null,
          replyToAddress: replyTo,
          inReplyTo,
          references,
        })
        .where(eq(ticketEmails.id, email.id));
      await recordIntegrationOutcome(deps.db, mailbox.organizationId, mailbox.integrationId, { ok: true });
      return { status: 'sent' };
    },
  };
}
export type SendActivities = ReturnType<typeof createSendActivities>;

function brandingOf(config: EmailConfig) {
  return {
    ...(config.branding.accentColor ? { accentColor: config.branding.accentColor } : {}),
    ...(config.branding.footer ? { footer: config.branding.footer } : {}),
  };
}

function isOurPlusAddress(address: string, ours: Set<string>): boolean {
  const { local, domain } = splitAddress(address);
  const base = `${local.split('+')[0]}@${domain}`;
  return ours.has(base);
}

type ThreadEmail = typeof ticketEmails.$inferSelect;

async function loadThread(db: Database, organizationId: string, ticketId: string) {
  const [ticket] = await db
    .select({ number: supportRequests.number, subject: supportRequests.subject, requesterEmail: customers.email })
    .from(supportRequests)
    .leftJoin(customers, eq(customers.id, supportRequests.requesterId))
    .where(and(eq(supportRequests.id, ticketId), eq(supportRequests.organizationId, organizationId)));
  if (!ticket) throw ApplicationFailure.nonRetryable('the ticket was deleted', 'TicketGone');
  const emails: ThreadEmail[] = await db
    .select()
    .from(ticketEmails)
    .where(and(eq(ticketEmails.supportRequestId, ticketId), eq(ticketEmails.organizationId, organizationId)))
    .orderBy(asc(ticketEmails.createdAt), asc(ticketEmails.id));
  return { ...ticket, emails };
}

async function attachmentsOf(deps: SendDeps, organizationId: string, ids: string[]) {
  if (ids.length === 0) return [];
  const rows = await deps.db
    .select()
    .from(ticketAttachments)
    .where(
      and(
        inArray(ticketAttachments.id, ids),
        eq(ticketAttachments.organizationId, organizationId),
        isNull(ticketAttachments.deletedAt),
      ),
    )
    .orderBy(desc(ticketAttachments.uploadedAt));
  const files = [];
  for (const row of rows) {
    if (row.scanStatus === 'pending_scan')
      throw ApplicationFailure.create({
        type: 'AttachmentNotScanned',
        message: `${row.fileName} is still being scanned; the email waits for it`,
      });
    if (row.scanStatus !== 'clean') continue;
    const opened = await openDownload(deps, row, 'content', undefined);
    files.push({ filename: row.fileName, content: opened.body, contentType: opened.mimeType });
  }
  return files;
}

/** The mailbox's pooled SMTP transport (also used by the notification email channel). */
export async function transportFor(
  deps: Pick<SendDeps, 'settings'>,
  integrationId: string,
  config: EmailConfig,
  credentials: EmailCredentials | null,
): Promise<Transporter> {
  const smtp = config.smtp!;
  const target = await connectTarget(smtp, deps.settings, 'SMTP');
  const key = createHash('sha256')
    .update(JSON.stringify([target.address, smtp, config.dkim, credentials?.smtpPassword, credentials?.dkimPrivateKey]))
    .digest('hex');
  const cached = transports.get(integrationId);
  if (cached?.key === key) return cached.transporter;
  cached?.transporter.close();
  const transporter = nodemailer.createTransport({
    pool: true,
    maxConnections: 5,
    host: target.address,
    port: smtp.port,
    secure: smtp.security === 'tls',
    requireTLS: smtp.security === 'starttls',
    ignoreTLS: smtp.security === 'none',
    tls: { ...(target.servername ? { servername: target.servername } : {}) },
    name: splitAddress(config.address).domain,
    connectionTimeout: deps.settings.timeoutMs,
    greetingTimeout: deps.settings.timeoutMs,
    socketTimeout: deps.settings.timeoutMs,
    ...(smtp.username ? { auth: { user: smtp.username, pass: credentials?.smtpPassword ?? '' } } : {}),
    ...(config.dkim && credentials?.dkimPrivateKey
      ? {
          dkim: {
            domainName: config.dkim.domain,
            keySelector: config.dkim.selector,
            privateKey: credentials.dkimPrivateKey,
          },
        }
      : {}),
    logger: false,
  });
  transports.set(integrationId, { transporter, key });
  return transporter;
}
