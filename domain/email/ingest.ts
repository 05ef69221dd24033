// What an inbound message does to the desk, in one transaction: the mailbox's ledger row (whose unique key makes the
// whole thing happen once per Message-ID), then the ticket it opens or the comment it adds, the ticket_emails row,
// and the acknowledgement it may queue. Parsing, DNS checks and attachments happen around it (activities/email).
import { randomUUID } from 'node:crypto';
import {
  type Database,
  type EmailAuthResults,
  type Executor,
  emailAutoReplies,
  emailInbound,
  supportRequests,
  ticketEmails,
} from '@switchboard/database';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { isSameMailbox, normalizeAddress, splitAddress } from '../../common/email/addresses.ts';
import { autoReplyVerdict, isAutomatedMail } from '../../common/email/auto-reply.ts';
import { normalizeMessageId } from '../../common/email/message-id.ts';
import { newMessageId } from '../../common/email/outbound-headers.ts';
import { readReplyToken, tokensInAddresses } from '../../common/email/reply-token.ts';
import { replySubject, ticketNumberInSubject } from '../../common/email/subject.ts';
import {
  messageIdsToLookUp,
  planThreading,
  type ThreadingDecision,
  type ThreadingFacts,
} from '../../common/email/threading-plan.ts';
import type { Scope } from '../scope.ts';
import { addComment } from '../tickets/comments.ts';
import { createTicket } from '../tickets/create-ticket.ts';
import { updateTicket } from '../tickets/update-ticket.ts';
import type { EmailConfig, EmailRoutingRule } from './config.ts';

/** The mailbox a message came into. */
export type MailboxContext = {
  organizationId: string;
  integrationId: string;
  config: EmailConfig;
  replyTokenKey: Uint8Array;
  via: 'imap' | 'webhook';
};

/** A parsed message without its attachments' bytes (activities/email/parse.ts makes it). */
export type InboundMessage = {
  messageId: string;
  from: { address: string; name: string | null };
  to: string[];
  cc: string[];
  subject: string;
  text: string;
  html: string | null;
  displayText: string;
  inReplyTo: string | null;
  references: string[];
  threadIndex: string | null;
  headers: Record<string, string | string[]>;
  sizeBytes: number;
};

export type IngestOutcome =
  | { status: 'duplicate'; inboundId: string; ticketId: string | null; emailId: string | null }
  | {
      status: 'ingested';
      inboundId: string;
      ticketId: string;
      emailId: string;
      createdTicket: boolean;
      threadedBy: ThreadingDecision;
      autoReplyQueued: boolean;
    };

/** The most a ticket description or comment holds; longer mail is cut there (the full text stays on the email). */
const BODY_LIMIT = 65_535;
const SUBJECT_LIMIT = 500;

/** The mailbox's own addresses: mail from them is ours (loop detection), mail to them is the mailbox's. */
export function ourAddresses(config: EmailConfig): string[] {
  return [config.address, ...config.aliases].map(normalizeAddress);
}

/**
 * Records the message and files it into a ticket. Runs once per mailbox and Message-ID: a second call (an IMAP
 * retry, a resync, a provider posting twice) finds the ledger row and answers `duplicate`. `release` is the ledger
 * row of a held message an agent released: it is filed now instead of being inserted again.
 */
export async function ingestMessage(
  db: Database,
  mailbox: MailboxContext,
  message: InboundMessage,
  auth: { results: EmailAuthResults | null; flagged: boolean },
  options: { release?: { inboundId: string; userId: string | null } } = {},
): Promise<IngestOutcome> {
  return db.transaction(async (tx) => {
    const inboundId = options.release
      ? await claimRelease(tx, mailbox, options.release.inboundId, options.release.userId)
      : await claimLedger(tx, mailbox, message, auth.results);
    if (!inboundId) {
      const [existing] = await tx
        .select({ id: emailInbound.id, ticketId: emailInbound.ticketId, emailId: emailInbound.emailId })
        .from(emailInbound)
        .where(
          and(eq(emailInbound.integrationId, mailbox.integrationId), eq(emailInbound.messageId, message.messageId)),
        );
      return { status: 'duplicate', inboundId: existing!.id, ticketId: existing!.ticketId, emailId: existing!.emailId };
    }

    // The same message into two mailboxes of the organisation (sent to support@ and billing@): one ticket email.
    const [known] = await tx
      .select({ id: ticketEmails.id, ticketId: ticketEmails.supportRequestId })
      .from(ticketEmails)
      .where(
        and(eq(ticketEmails.organizationId, mailbox.organizationId), eq(ticketEmails.messageId, message.messageId)),
      );
    if (known) {
      await tx
        .update(emailInbound)
        .set({ ticketId: known.ticketId, emailId: known.id })
        .where(eq(emailInbound.id, inboundId));
      return { status: 'duplicate', inboundId, ticketId: known.ticketId, emailId: known.id };
    }

    const customerId = await findOrCreateCustomer(tx, mailbox.organizationId, message.from);
    const scope: Scope = {
      organizationId: mailbox.organizationId,
      actor: { type: 'customer', id: customerId },
      userId: null,
    };
    const decision = planThreading(await threadingFacts(tx, mailbox, message));
    // The ticket functions open their own transaction; inside this one they become savepoints, so the ledger row,
    // the ticket or comment and the email row commit together or not at all.
    const nested = tx as unknown as Database;
    let ticketId: string;
    let commentId: string | null = null;
    if (decision.kind === 'join') {
      ticketId = decision.ticketId;
      const comment = await addComment(
        nested,
        scope,
        ticketId,
        { body: cut(message.displayText || message.text || '(no text)', BODY_LIMIT), isPublic: true },
        { source: 'email', author: { customerId }, externalId: message.messageId },
      );
      commentId = comment.id;
      // The customer answered: a ticket waiting on them (pending) or marked solved is open again, as agents expect.
      const [current] = await tx
        .select({ status: supportRequests.status, version: supportRequests.version })
        .from(supportRequests)
        .where(eq(supportRequests.id, ticketId));
      if (current && (current.status === 'pending' || current.status === 'solved'))
        await updateTicket(nested, scope, ticketId, { version: current.version, status: 'open' });
    } else {
      const rule = matchRoutingRule(mailbox.config.routing, message);
      const ticket = await createTicket(nested, scope, {
        subject: cut(message.subject || '(no subject)', SUBJECT_LIMIT),
        description: cut(message.displayText || message.text, BODY_LIMIT),
        requesterEmail: message.from.address,
        ...(message.from.name ? { requesterName: cut(message.from.name, 200) } : {}),
        channel: 'email',
        ...(rule?.priority ? { priority: rule.priority } : {}),
        ...(rule?.tags ? { tags: rule.tags } : {}),
      });
      ticketId = ticket.id;
    }

    const automated = isAutomatedMail(message.headers);
    const [email] = await tx
      .insert(ticketEmails)
      .values({
        organizationId: mailbox.organizationId,
        supportRequestId: ticketId,
        integrationId: mailbox.integrationId,
        messageId: message.messageId,
        direction: 'inbound',
        status: 'received',
        kind: 'message',
        fromAddress: message.from.address,
        toAddresses: message.to,
        ccAddresses: message.cc,
        subject: message.subject,
        content: message.text,
        htmlContent: message.html,
        displayText: message.displayText,
        inReplyTo: message.inReplyTo,
        references: message.references,
        threadIndex: message.threadIndex,
        authResults: auth.results,
        authFlagged: auth.flagged,
        automated,
        commentId,
        sentAt: sql`now()`,
      })
      .returning({ id: ticketEmails.id });
    await tx.update(emailInbound).set({ ticketId, emailId: email!.id }).where(eq(emailInbound.id, inboundId));

    const autoReplyQueued =
      decision.kind === 'new' && (await queueAcknowledgement(tx, mailbox, message, ticketId, email!.id));
    return {
      status: 'ingested',
      inboundId,
      ticketId,
      emailId: email!.id,
      createdTicket: decision.kind === 'new',
      threadedBy: decision,
      autoReplyQueued,
    };
  });
}

/** Inserts the ledger row; null when the mailbox has seen this Message-ID already. */
async function claimLedger(
  tx: Executor,
  mailbox: MailboxContext,
  message: InboundMessage,
  authResults: EmailAuthResults | null,
): Promise<string | null> {
  const [row] = await tx
    .insert(emailInbound)
    .values({
      organizationId: mailbox.organizationId,
      integrationId: mailbox.integrationId,
      messageId: message.messageId,
      via: mailbox.via,
      status: 'ingested',
      fromAddress: message.from.address,
      subject: cut(message.subject, SUBJECT_LIMIT),
      sizeBytes: message.sizeBytes,
      authResults,
    })
    .onConflictDoNothing()
    .returning({ id: emailInbound.id });
  return row?.id ?? null;
}

/** A held message being released: its row moves to `released` once, whoever clicks first. */
async function claimRelease(
  tx: Executor,
  mailbox: MailboxContext,
  inboundId: string,
  userId: string | null,
): Promise<string | null> {
  const [row] = await tx
    .update(emailInbound)
    .set({ status: 'released', heldMessage: null, decidedBy: userId, decidedAt: sql`now()` })
    .where(
      and(
        eq(emailInbound.id, inboundId),
        eq(emailInbound.integrationId, mailbox.integrationId),
        eq(emailInbound.status, 'held'),
      ),
    )
    .returning({ id: emailInbound.id });
  return row?.id ?? null;
}

/** The facts threading decides on, read in a few indexed queries. */
async function threadingFacts(tx: Executor, mailbox: MailboxContext, message: InboundMessage): Promise<ThreadingFacts> {
  const { organizationId } = mailbox;
  const tokenTicketId = await verifiedToken(tx, mailbox, [...message.to, ...message.cc]);
  const ids = messageIdsToLookUp(message.inReplyTo, message.references);
  const messages =
    ids.length === 0
      ? []
      : await tx
          .select({ messageId: ticketEmails.messageId, ticketId: ticketEmails.supportRequestId })
          .from(ticketEmails)
          .where(and(eq(ticketEmails.organizationId, organizationId), inArray(ticketEmails.messageId, ids)));
  const number = ticketNumberInSubject(message.subject);
  const byNumber =
    number === null
      ? []
      : await tx
          .select({ id: supportRequests.id })
          .from(supportRequests)
          .where(and(eq(supportRequests.organizationId, organizationId), eq(supportRequests.number, number)));
  const candidateIds = [...new Set([...messages.map((m) => m.ticketId), ...byNumber.map((t) => t.id)])];
  return {
    sender: message.from.address,
    tokenTicketId,
    inReplyTo: message.inReplyTo,
    references: message.references,
    subjectTicketNumber: number,
    messages,
    tickets: await participantsOf(tx, organizationId, candidateIds, ourAddresses(mailbox.config)),
  };
}

/** A reply token of ours among the recipients that opens to a ticket of this organisation. */
async function verifiedToken(tx: Executor, mailbox: MailboxContext, recipients: string[]): Promise<string | null> {
  for (const address of ourAddresses(mailbox.config)) {
    for (const token of tokensInAddresses(recipients, address)) {
      const ticketId = readReplyToken(token, mailbox.replyTokenKey);
      if (!ticketId) continue;
      const [ticket] = await tx
        .select({ id: supportRequests.id })
        .from(supportRequests)
        .where(and(eq(supportRequests.id, ticketId), eq(supportRequests.organizationId, mailbox.organizationId)));
      if (ticket) return ticket.id;
    }
  }
  return null;
}

/** Who takes part in each ticket: its requester and every address its mail came from or went to, but ours. */
async function participantsOf(
  tx: Executor,
  organizationId: string,
  ticketIds: string[],
  ours: string[],
): Promise<ThreadingFacts['tickets']> {
  if (ticketIds.length === 0) return [];
  const rows = await tx.execute<{ id: string; number: number; participants: string[] | null }>(sql`
    select t.id, t.number,
      array(
        select distinct lower(a) from (
          select c.email as a from customers c where c.id = t.requester_id
          union all
          select unnest(array[e.from_address] || e.to_addresses || e.cc_addresses)
            from ticket_emails e where e.support_request_id = t.id
        ) addresses where a is not null
      ) as participants
    from support_requests t
    where t.organization_id = ${organizationId} and t.id = any(${sql.param(ticketIds)}::uuid[])`);
  // Our own addresses and their +token forms (on every reply that came back through a token) are no participant:
  // they are public, so anyone could put them in From and join a ticket by its guessable [#n].
  return rows.rows.map((row) => ({
    ticketId: row.id,
    number: row.number,
    participants: (row.participants ?? []).filter((a) => !ours.some((o) => isSameMailbox(o, a))),
  }));
}

/** The first routing rule the message matches (every listed condition holds). */
export function matchRoutingRule(
  rules: readonly EmailRoutingRule[],
  message: Pick<InboundMessage, 'to' | 'cc' | 'from' | 'subject'>,
): EmailRoutingRule | undefined {
  const recipients = new Set([...message.to, ...message.cc].map(normalizeAddress));
  const senderDomain = message.from.address.split('@').pop()?.toLowerCase() ?? '';
  return rules.find(
    (rule) =>
      (!rule.to || recipients.has(normalizeAddress(rule.to))) &&
      (!rule.fromDomain || senderDomain === rule.fromDomain || senderDomain.endsWith(`.${rule.fromDomain}`)) &&
      (!rule.subjectContains || message.subject.toLowerCase().includes(rule.subjectContains.toLowerCase())),
  );
}

/**
 * Queues the acknowledgement of a new ticket when the mailbox sends one and the rules allow it (no automated mail,
 * no list, not ourselves), at most once per sender per window: the window is claimed with one conditional upsert,
 * so two messages racing from one sender get one acknowledgement.
 */
async function queueAcknowledgement(
  tx: Executor,
  mailbox: MailboxContext,
  message: InboundMessage,
  ticketId: string,
  emailId: string,
): Promise<boolean> {
  const { autoReply } = mailbox.config;
  if (!autoReply.enabled || !mailbox.config.smtp) return false;
  const verdict = autoReplyVerdict({
    headers: message.headers,
    from: message.from.address,
    ourAddresses: ourAddresses(mailbox.config),
    lastSentToSenderAt: null,
    windowMs: autoReply.windowHours * 3_600_000,
    now: new Date(),
  });
  if (!verdict.send) return false;
  const claimed = await tx.execute(sql`
    insert into ${emailAutoReplies} (integration_id, sender, last_sent_at)
    values (${mailbox.integrationId}, ${message.from.address}, now())
    on conflict (integration_id, sender) do update set last_sent_at = now()
      where ${emailAutoReplies.lastSentAt} < now() - make_interval(hours => ${autoReply.windowHours})
    returning sender`);
  if (claimed.rows.length === 0) return false;
  const [ticket] = await tx
    .select({ number: supportRequests.number, subject: supportRequests.subject })
    .from(supportRequests)
    .where(eq(supportRequests.id, ticketId));
  const id = randomUUID();
  await tx
    .insert(ticketEmails)
    .values({
      id,
      organizationId: mailbox.organizationId,
      supportRequestId: ticketId,
      integrationId: mailbox.integrationId,
      messageId: normalizeMessageId(newMessageId(id, splitAddress(mailbox.config.address).domain)),
      direction: 'outbound',
      status: 'queued',
      kind: 'auto_reply',
      fromAddress: normalizeAddress(mailbox.config.address),
      toAddresses: [message.from.address],
      subject: autoReply.subject
        ? replySubject(autoReply.subject, ticket!.number)
        : replySubject(ticket!.subject, ticket!.number),
      content: autoReply.body,
      inReplyTo: message.messageId,
      references: [...message.references, message.messageId],
      threadIndex: message.threadIndex,
      automated: true,
      sourceKey: `ack:${emailId}`,
    })
    .onConflictDoNothing();
  return true;
}

async function findOrCreateCustomer(
  tx: Executor,
  organizationId: string,
  from: InboundMessage['from'],
): Promise<string> {
  const result = await tx.execute<{ id: string }>(sql`
    insert into customers (organization_id, email, name) values (${organizationId}, ${from.address}, ${from.name ? cut(from.name, 200) : null})
    on conflict (organization_id, lower(email))
    do update set name = coalesce(customers.name, excluded.name)
    returning id`);
  return result.rows[0]!.id;
}

function cut(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
