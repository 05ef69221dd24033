// Outbound mail: turning an agent's public comment into a queued reply, and sending a queued row over SMTP with
// nodemailer's pooled transport. A row is the send's record: it is written once (its source key), carries the
// Message-ID we generated, and moves queued → sent (or failed, with the server's words, on a 5xx). Each attempt first
// claims the row (claimRow: `next_attempt_at` moved past the longest a send can take), so two attempts that overlap
// (an activity retried while its first attempt still runs, the old thread workflow next to the outbox) never send it
// both. SMTP has no idempotency key, so the one gap left is a worker killed after the server accepted the message and
// before the row says sent: once the claim lapses the row is sent again, with the same Message-ID, which mail clients
// show once (at least once, never twice at the same time).
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
import { and, asc, desc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { Transporter } from 'nodemailer';
import type { KeyRing } from '../../common/config.ts';
import { loadIntegrationCredentials } from '../../common/credentials.ts';
import { normalizeAddress, splitAddress } from '../../common/email/addresses.ts';
import { autoReplyHeaders } from '../../common/email/auto-reply.ts';
import { formatMessageId, normalizeMessageId } from '../../common/email/message-id.ts';
import { childThreadIndex, isThreadIndex, newMessageId, threadHeaders } from '../../common/email/outbound-headers.ts';
import { makeReplyToken, replyAddress } from '../../common/email/reply-token.ts';
import { replySubject } from '../../common/email/subject.ts';
import { renderEmail } from '../../common/email/template.ts';
import { RequestError } from '../../common/errors.ts';
import { onFirstUse } from '../../common/lazy-module.ts';
import type { EmailConfig, EmailCredentials } from '../../domain/email/config.ts';
import { ourAddresses } from '../../domain/email/ingest.ts';
import { loadMailbox, replyTokenKey } from '../../domain/email/mailboxes.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import type { EmailSettings } from '../../packages/integrations/email/settings.ts';
import { openDownload } from '../files/downloads.ts';
import type { StoreDirectory } from '../files/stores.ts';
import { connectTarget, describeMailError } from './connect.ts';
import { retryDelayMs } from './outbox-plan.ts';

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

/** SMTP: loaded by the first send, in the worker (common/lazy-module.ts). */
const loadNodemailer = onFirstUse(() => import('nodemailer'));

/** One pooled transport per mailbox and settings: a changed password or host gets a new pool. */
const transports = new Map<string, { transporter: Transporter; key: string }>();

export function closeTransports(): void {
  for (const { transporter } of transports.values()) transporter.close();
  transports.clear();
}

/**
 * The reply a public comment of an agent becomes, queued once (`comment:<id>`), from the mailbox that last
 * received mail on the ticket, to its requester with the thread's other participants in copy. Null when the
 * comment does not go out by email (internal, not by an agent, the ticket has no email thread, the mailbox
 * cannot send).
 */
export async function queueReply(
  deps: Pick<SendDeps, 'db'>,
  input: { organizationId: string; ticketId: string; commentId: string },
): Promise<string | null> {
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
      // When the agent wrote it, not when a round got to it: a ticket's rows leave, and thread, in created_at order,
      // and a comment queued late (a retried round, a backlog) must not overtake what was written after it. Copied in
      // SQL, to the microsecond: a JavaScript Date keeps milliseconds, and a row written earlier in the same
      // millisecond would then sort after the reply.
      createdAt: sql`(select created_at from ticket_comments where id = ${input.commentId})`,
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
      return queueReply(deps, input);
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

    /**
     * Sends one queued row (the per-ticket thread workflow's step, kept for its runs started before the outbox). A 5xx
     * fails it for good (visible on the ticket); anything else is thrown for the activity's retry.
     */
    async sendEmail(input: { organizationId: string; emailId: string }): Promise<SendResult> {
      const outcome = await attemptSend(deps, input.organizationId, input.emailId);
      if (outcome.status === 'sent') return { status: 'sent' };
      if (outcome.status === 'busy')
        // Claimed by another attempt (the outbox, or this activity's earlier attempt still running), or waiting for
        // its next attempt: the retry comes back until it is sent or failed, so the thread never skips it.
        throw ApplicationFailure.create({ type: 'EmailBusy', message: 'the email is being sent or waits its turn' });
      if (outcome.status !== 'wait') return outcome;
      await deferRow(deps, outcome, `activity attempt ${Context.current().info.attempt}`);
      throw ApplicationFailure.create({ type: outcome.type, message: outcome.message });
    },
  };
}
export type SendActivities = ReturnType<typeof createSendActivities>;

/**
 * What one attempt at a queued row came to. `wait`: it did not go out this time but may later (the server answered
 * 4xx or could not be reached, the mailbox is switched off, an attachment is still being scanned); nothing was
 * written for it yet, the caller decides how it waits.
 */
export type SendAttempt =
  | { status: 'sent'; integrationId: string }
  /** No longer queued: sent or failed already. */
  | { status: 'skipped' }
  /** Still queued but not to be sent now: another attempt holds its claim, or it waits for its next attempt. */
  | { status: 'busy' }
  | { status: 'failed'; reason: string }
  | {
      status: 'wait';
      /** `SendError`: anything else that went wrong for this row alone (the outbox's round only). */
      type: 'MailSendError' | 'MailboxDisabled' | 'AttachmentNotScanned' | 'SendError';
      message: string;
      /**
       * The mailbox's server as a whole failed (no connection, no answer, refused login, 421), not this message (a
       * 4xx to its recipient): the mailbox's other rows would fail the same way, so they wait with it.
       */
      mailboxWide: boolean;
      emailId: string;
      attempts: number;
      organizationId: string;
      integrationId: string;
      ticketNumber: number;
    };

/** What a round loads once per mailbox rather than once per row. */
export type MailboxCache = Map<string, Promise<LoadedMailbox | null>>;
type LoadedMailbox = {
  mailbox: Awaited<ReturnType<typeof loadMailbox>>;
  tokenKey: Awaited<ReturnType<typeof replyTokenKey>>;
  credentials: EmailCredentials | null;
};

async function loadSender(
  deps: SendDeps,
  organizationId: string,
  integrationId: string,
  cache?: MailboxCache,
): Promise<LoadedMailbox | null> {
  const load = async (): Promise<LoadedMailbox | null> => {
    const mailbox = await loadMailbox(deps.db, organizationId, integrationId).catch((error: unknown) => {
      // Deleted (or its settings unreadable): the row fails for good. Anything else (the database) is thrown, so the
      // row is tried again.
      if (error instanceof RequestError || (error instanceof Error && error.name === 'ZodError')) return null;
      throw error;
    });
    if (!mailbox) return null;
    const [tokenKey, credentials] = await Promise.all([
      replyTokenKey(deps.db, deps.credentialKeys, mailbox),
      loadIntegrationCredentials(
        deps.db,
        deps.credentialKeys,
        mailbox.organizationId,
        mailbox.integrationId,
      ) as Promise<EmailCredentials | null>,
    ]);
    return { mailbox, tokenKey, credentials };
  };
  if (!cache) return load();
  let loaded = cache.get(integrationId);
  if (!loaded) {
    loaded = load();
    cache.set(integrationId, loaded);
    // A failed load is not kept: the mailbox's next row of the round loads it again.
    loaded.catch(() => {
      if (cache.get(integrationId) === loaded) cache.delete(integrationId);
    });
  }
  return loaded;
}

/** A send that could not go out yet, on the mailbox's health (one error per attempt). */
export async function recordSendWait(
  deps: Pick<SendDeps, 'db'>,
  wait: Extract<SendAttempt, { status: 'wait' }>,
  attemptText: string,
): Promise<void> {
  await recordIntegrationOutcome(deps.db, wait.organizationId, wait.integrationId, {
    ok: false,
    error: `${wait.message}; replies wait and are retried (${attemptText})`,
  });
}

/** `ms` after the database's now(): due-ness is decided by the database's clock, so it is also what sets the times. */
export const afterNow = (ms: number) => sql`now() + ${Math.max(0, Math.round(ms))} * interval '1 millisecond'`;

/**
 * A row whose attempt came to `wait`: one more attempt counted, and not tried again (nor any later row of its ticket)
 * before `next_attempt_at`, the backoff of its attempts, set by the database's clock. Releases the attempt's claim.
 */
export async function deferRow(
  deps: Pick<SendDeps, 'db'>,
  wait: Extract<SendAttempt, { status: 'wait' }>,
  attemptText?: string,
): Promise<void> {
  const attempts = wait.attempts + 1;
  const [row] = await deps.db
    .update(ticketEmails)
    .set({
      attempts,
      nextAttemptAt: afterNow(retryDelayMs(attempts)),
      failureReason: `retrying: ${wait.message}`.slice(0, 1000),
    })
    .where(and(eq(ticketEmails.id, wait.emailId), eq(ticketEmails.status, 'queued')))
    .returning({ nextAttemptAt: ticketEmails.nextAttemptAt });
  if (wait.type === 'MailSendError' && wait.integrationId)
    await recordSendWait(
      deps,
      wait,
      `attempt ${attempts}${row?.nextAttemptAt ? `, next at ${row.nextAttemptAt.toISOString()}` : ''}${attemptText ? `, ${attemptText}` : ''}`,
    );
}

/** Beyond this a send that neither went through nor failed (seen once: nodemailer's pool stayed silent) is a wait. */
export const sendTimeoutMs = (settings: Pick<EmailSettings, 'timeoutMs'>) => 3 * settings.timeoutMs;

/**
 * How long a claim keeps other attempts off a row: the longest a send may take, and a minute for what surrounds it
 * (the thread, attachments, the connection's checks, the row's update). A worker that dies holding a claim delays the
 * row by this much.
 */
export const claimLeaseMs = (settings: Pick<EmailSettings, 'timeoutMs'>) => sendTimeoutMs(settings) + 60_000;

/**
 * Claims a queued row for one attempt, atomically: only while it is queued and due (no claim held, no wait running).
 * The claim is `next_attempt_at` moved past the lease, so no new column, and the ticket's later rows wait behind it
 * like behind a waiting row. Null when the row is not to be sent now.
 */
async function claimRow(deps: SendDeps, organizationId: string, emailId: string) {
  const [claimed] = await deps.db
    .update(ticketEmails)
    .set({ nextAttemptAt: afterNow(claimLeaseMs(deps.settings)) })
    .where(
      and(
        eq(ticketEmails.id, emailId),
        eq(ticketEmails.organizationId, organizationId),
        eq(ticketEmails.status, 'queued'),
        or(isNull(ticketEmails.nextAttemptAt), lte(ticketEmails.nextAttemptAt, sql`now()`)),
      ),
    )
    .returning();
  return claimed ?? null;
}

/**
 * One attempt at a queued row: claimed first (claimRow: nothing goes twice at the same time), then sent with the
 * thread's headers. A 5xx or settings the deployment refuses fail the row for good, with the reason on the ticket;
 * whatever may pass later comes back as `wait`. `recordSuccess: false` leaves the mailbox's success to the caller
 * (a round records it once per mailbox).
 */
export async function attemptSend(
  deps: SendDeps,
  organizationId: string,
  emailId: string,
  options: { cache?: MailboxCache; recordSuccess?: boolean } = {},
): Promise<SendAttempt> {
  const email = await claimRow(deps, organizationId, emailId);
  if (!email) {
    const [row] = await deps.db
      .select({ status: ticketEmails.status })
      .from(ticketEmails)
      .where(and(eq(ticketEmails.id, emailId), eq(ticketEmails.organizationId, organizationId)));
    return row?.status === 'queued' ? { status: 'busy' } : { status: 'skipped' };
  }
  const fail = async (reason: string): Promise<SendAttempt> => {
    await deps.db
      .update(ticketEmails)
      .set({
        status: 'failed',
        failureReason: reason.slice(0, 1000),
        attempts: email.attempts + 1,
        nextAttemptAt: null,
      })
      .where(and(eq(ticketEmails.id, email.id), eq(ticketEmails.status, 'queued')));
    return { status: 'failed', reason };
  };
  const sender = email.integrationId
    ? await loadSender(deps, organizationId, email.integrationId, options.cache)
    : null;
  if (!sender) return fail('the mailbox this email was to be sent from was deleted');
  const { mailbox, tokenKey, credentials } = sender;
  if (!mailbox.config.smtp) return fail('the mailbox has no SMTP settings');

  const thread = await loadThread(deps.db, organizationId, email.supportRequestId);
  const wait = (
    type: Extract<SendAttempt, { status: 'wait' }>['type'],
    message: string,
    mailboxWide = false,
  ): SendAttempt => ({
    status: 'wait',
    type,
    message,
    mailboxWide,
    emailId: email.id,
    attempts: email.attempts,
    organizationId: mailbox.organizationId,
    integrationId: mailbox.integrationId,
    ticketNumber: thread.number,
  });
  if (!mailbox.isActive)
    // Switched off: the mail waits (nothing is lost) until it is switched on again.
    return wait(
      'MailboxDisabled',
      `the mailbox ${mailbox.config.address} is switched off; the email waits until it is on again`,
    );

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
  const replyTo = replyAddress(mailbox.config.address, makeReplyToken(email.supportRequestId, tokenKey));
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
  let attachments: Awaited<ReturnType<typeof attachmentsOf>>;
  try {
    attachments = await attachmentsOf(deps, organizationId, email.attachmentIds);
  } catch (error) {
    if (error instanceof ApplicationFailure && error.type === 'AttachmentNotScanned')
      return wait('AttachmentNotScanned', error.message);
    throw error;
  }

  const smtp = mailbox.config.smtp;
  try {
    const transporter = await transportFor(deps, mailbox.integrationId, mailbox.config, credentials);
    await withTimeout(
      transporter.sendMail({
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
      }),
      sendTimeoutMs(deps.settings),
    );
  } catch (error) {
    const code = (error as { responseCode?: number }).responseCode;
    const described = describeMailError(error, 'SMTP', smtp.host);
    if (described.type === 'MailConfigError') {
      // The deployment refuses these settings (no TLS, a private address): no retry gets the mail out, so the row
      // says so on the ticket instead of staying queued for ever.
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
    // No SMTP answer at all (refused, unreachable, no answer in time, a login refused) or 421 (the server closes the
    // session): the server, not this message. A 4xx to this message (a full mailbox, greylisting) is the row's alone.
    return wait('MailSendError', described.message, code === undefined || code === 421);
  }
  await deps.db
    .update(ticketEmails)
    .set({
      status: 'sent',
      sentAt: new Date(),
      attempts: email.attempts + 1,
      failureReason: null,
      nextAttemptAt: null,
      replyToAddress: replyTo,
      inReplyTo,
      references,
    })
    .where(eq(ticketEmails.id, email.id));
  if (options.recordSuccess !== false)
    await recordIntegrationOutcome(deps.db, mailbox.organizationId, mailbox.integrationId, { ok: true });
  return { status: 'sent', integrationId: mailbox.integrationId };
}

class SendTimeout extends Error {
  constructor(ms: number) {
    super(`the mail server did not finish the send within ${Math.round(ms / 1000)} s`);
    this.name = 'SendTimeout';
  }
}

/** The send may still complete later; the row stays queued, and a later attempt sends the same Message-ID. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new SendTimeout(ms)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

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
  // Loaded before the cache is read: from there to the new pool's entry nothing waits, so no two calls make one each.
  const { default: nodemailer } = await loadNodemailer();
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
