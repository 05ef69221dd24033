// One inbound message, from raw bytes to the desk: size check, parse, authenticate, the mailbox's DMARC policy,
// the ingest transaction (domain/email/ingest.ts), then the attachments through the attachment pipeline. Both
// inbound paths (the IMAP mailbox workflow and the inbound webhook) and the release of a held message come here.
// Every step is idempotent by the message's Message-ID, so a retry after a crash at any point finishes the job
// without doubling anything: the ledger row makes the ticket write happen once, and each attachment carries a key of
// its own (`email/<email id>/<part>`) that the intake honours.
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { type Database, type EmailAttachmentRefusal, emailInbound, ticketEmails } from '@switchboard/database';
import { eq, sql } from 'drizzle-orm';
import type { DNSResolver } from 'mailauth';
import type { KeyRing } from '../../common/config.ts';
import { openJson, sealJson } from '../../common/crypto/envelope.ts';
import { isStorableMessageId } from '../../common/email/message-id.ts';
import { connectionFromReceived } from '../../common/email/received.ts';
import { RequestError } from '../../common/errors.ts';
import type { Scope } from '../../common/integration-contract.ts';
import { type IngestOutcome, ingestMessage, type MailboxContext } from '../../domain/email/ingest.ts';
import { heldMessageContext } from '../../domain/email/mailboxes.ts';
import type { AttachmentIntake } from '../files/intake.ts';
import { authenticateMessage } from './authenticate.ts';
import { MalformedMessageError, type ParsedInbound, parseInbound } from './parse.ts';

export type IngestDeps = {
  db: Database;
  credentialKeys: KeyRing;
  intake: AttachmentIntake;
  resolver: DNSResolver;
  maxMessageBytes: number;
  /** Our MTA's name, as mailauth writes it into its verdicts. */
  mta?: string;
};

export type IngestResult =
  | IngestOutcome
  | { status: 'held'; inboundId: string; reason: string }
  | { status: 'refused'; inboundId: string | null; reason: string };

/** A message id for bytes that carry none (or could not be parsed): the same bytes always get the same one. */
export function fallbackMessageId(raw: Buffer): string {
  return `${createHash('sha256').update(raw).digest('hex')}@switchboard.invalid`;
}

/**
 * What can be known of raw bytes before the database: too large or malformed (refused), or parsed with its
 * authentication verdicts. It asks DNS but writes nothing, so a mailbox prepares the next messages while the one
 * before is being filed.
 */
export type PreparedInbound =
  | { kind: 'refused'; raw: Buffer; messageId: string; reason: string }
  | { kind: 'parsed'; raw: Buffer; parsed: ParsedInbound; results: Awaited<ReturnType<typeof authenticateMessage>> };

export async function prepareInbound(deps: IngestDeps, raw: Buffer): Promise<PreparedInbound> {
  if (raw.length > deps.maxMessageBytes)
    return {
      kind: 'refused',
      raw,
      messageId: fallbackMessageId(raw),
      reason: tooLarge(raw.length, deps.maxMessageBytes),
    };
  let parsed: ParsedInbound;
  try {
    parsed = await parseInbound(raw);
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
    return { kind: 'refused', raw, messageId: fallbackMessageId(raw), reason: error.message };
  }
  const connection = connectionFromReceived(parsed.received);
  const results = await authenticateMessage(
    raw,
    { ip: connection?.ip ?? null, helo: connection?.helo ?? null, mailFrom: parsed.mailFrom },
    { resolver: deps.resolver, mta: deps.mta ?? 'switchboard' },
  );
  return { kind: 'parsed', raw, parsed, results };
}

/** Files one raw message into the mailbox's organisation. */
export async function ingestRaw(
  deps: IngestDeps,
  mailbox: MailboxContext,
  raw: Buffer,
  options: { release?: { inboundId: string; userId: string | null } } = {},
): Promise<IngestResult> {
  return filePrepared(deps, mailbox, await prepareInbound(deps, raw), options);
}

/** The database side of `ingestRaw`: the mailbox's DMARC policy, the ledger and the ticket, the attachments. */
export async function filePrepared(
  deps: IngestDeps,
  mailbox: MailboxContext,
  prepared: PreparedInbound,
  options: { release?: { inboundId: string; userId: string | null } } = {},
): Promise<IngestResult> {
  const { raw } = prepared;
  if (prepared.kind === 'refused')
    return refuse(deps.db, mailbox, { messageId: prepared.messageId, size: raw.length, reason: prepared.reason });
  const { parsed, results } = prepared;
  const dmarcFailed = results.dmarc === 'fail';
  if (dmarcFailed && mailbox.config.dmarcPolicy === 'hold' && !options.release) {
    const reason =
      `DMARC failed for ${parsed.from.address.split('@').pop()} (DKIM ${results.dkim}, SPF ${results.spf}); ` +
      'held until an agent releases it';
    return hold(deps, mailbox, parsed, raw, results, reason);
  }

  const message = { ...parsed, sizeBytes: raw.length };
  let outcome: IngestOutcome;
  try {
    outcome = await ingestMessage(
      deps.db,
      mailbox,
      message,
      { results, flagged: dmarcFailed && mailbox.config.dmarcPolicy === 'flag' },
      options,
    );
  } catch (error) {
    // The ticket code refused what the message says (a From address no requester can have, such as root@localhost):
    // the same bytes fail the same way on every retry, so retrying would stop the mailbox at this message for ever.
    // The transaction wrote nothing; the refusal is recorded like malformed MIME. A release shows the agent the error.
    if (options.release || !(error instanceof RequestError) || (error.status !== 400 && error.status !== 422))
      throw error;
    return refuse(deps.db, mailbox, {
      messageId: parsed.messageId,
      size: raw.length,
      reason: `the message could not be filed: ${error.message}`,
      from: parsed.from.address,
      subject: parsed.subject,
    });
  }
  if (outcome.emailId && outcome.ticketId) await storeAttachments(deps, mailbox, outcome, parsed);
  return outcome;
}

/** A held message an agent released: filed through the same ingest, past the DMARC policy. */
export async function releaseHeld(
  deps: IngestDeps,
  mailbox: MailboxContext,
  inboundId: string,
  userId: string | null,
): Promise<IngestResult> {
  const [row] = await deps.db
    .select({ sealed: emailInbound.heldMessage, status: emailInbound.status })
    .from(emailInbound)
    .where(eq(emailInbound.id, inboundId));
  if (row?.status !== 'held' || !row.sealed)
    throw new RequestError(409, 'conflict', 'this message is not held (it was released or discarded already)');
  const { raw } = openJson(deps.credentialKeys, row.sealed, heldMessageContext(mailbox.organizationId, inboundId)) as {
    raw: string;
  };
  return ingestRaw(deps, mailbox, Buffer.from(raw, 'base64'), { release: { inboundId, userId } });
}

/**
 * Each attachment into the attachment pipeline, as the sender: stored (and scanned, and thumbnailed) or refused
 * with the reason on the email row, never dropped. Runs again after a retry: what was stored is found by its key.
 */
async function storeAttachments(
  deps: IngestDeps,
  mailbox: MailboxContext,
  outcome: { ticketId: string | null; emailId: string | null },
  parsed: ParsedInbound,
): Promise<void> {
  if (parsed.attachments.length === 0) return;
  const [email] = await deps.db
    .select({
      ids: ticketEmails.attachmentIds,
      refusals: ticketEmails.attachmentRefusals,
      integrationId: ticketEmails.integrationId,
    })
    .from(ticketEmails)
    .where(eq(ticketEmails.id, outcome.emailId!));
  // Another mailbox of the organisation filed this message first: its attachments are that mailbox's to store.
  if (!email || email.integrationId !== mailbox.integrationId) return;
  if (email.ids.length + email.refusals.length >= parsed.attachments.length) return;

  const scope: Scope = {
    organizationId: mailbox.organizationId,
    actor: { type: 'integration', id: mailbox.integrationId },
    userId: null,
  };
  const ids: string[] = [];
  const refusals: EmailAttachmentRefusal[] = [];
  for (const [index, attachment] of parsed.attachments.entries()) {
    try {
      const view = await deps.intake.accept(
        scope,
        outcome.ticketId!,
        'email',
        {
          stream: Readable.from([attachment.content]),
          name: attachment.name,
          mime: attachment.mime,
          size: attachment.size,
        },
        { resumableUploadId: `email/${outcome.emailId}/${index}` },
      );
      ids.push(view.id);
    } catch (error) {
      // Refusals are the intake's words (type not allowed, too large, over quota); anything else is a failure to
      // retry (the store or the database is down), and the activity's retry comes back here.
      if (!(error instanceof RequestError)) throw error;
      refusals.push({ fileName: attachment.name, size: attachment.size, reason: error.message });
    }
  }
  await deps.db
    .update(ticketEmails)
    .set({ attachmentIds: ids, attachmentRefusals: refusals })
    .where(eq(ticketEmails.id, outcome.emailId!));
}

async function hold(
  deps: IngestDeps,
  mailbox: MailboxContext,
  parsed: ParsedInbound,
  raw: Buffer,
  results: Awaited<ReturnType<typeof authenticateMessage>>,
  reason: string,
): Promise<IngestResult> {
  const id = randomUUID();
  const [row] = await deps.db
    .insert(emailInbound)
    .values({
      id,
      organizationId: mailbox.organizationId,
      integrationId: mailbox.integrationId,
      messageId: parsed.messageId,
      via: mailbox.via,
      status: 'held',
      reason,
      fromAddress: parsed.from.address,
      subject: parsed.subject.slice(0, 500),
      sizeBytes: raw.length,
      authResults: results,
      heldMessage: sealJson(
        deps.credentialKeys,
        { raw: raw.toString('base64') },
        heldMessageContext(mailbox.organizationId, id),
      ),
    })
    .onConflictDoNothing()
    .returning({ id: emailInbound.id });
  if (!row) return duplicateOf(deps.db, mailbox, parsed.messageId);
  return { status: 'held', inboundId: row.id, reason };
}

async function refuse(
  db: Database,
  mailbox: MailboxContext,
  refusal: { messageId: string; size: number; reason: string; from?: string; subject?: string },
): Promise<IngestResult> {
  // IMAP refuses an oversized message by its envelope's Message-ID, which no parser has bounded yet.
  const messageId = isStorableMessageId(refusal.messageId)
    ? refusal.messageId
    : `${createHash('sha256').update(refusal.messageId).digest('hex')}@switchboard.invalid`;
  const [row] = await db
    .insert(emailInbound)
    .values({
      organizationId: mailbox.organizationId,
      integrationId: mailbox.integrationId,
      messageId,
      via: mailbox.via,
      status: 'refused',
      reason: refusal.reason,
      fromAddress: refusal.from ?? null,
      subject: refusal.subject?.slice(0, 500) ?? null,
      sizeBytes: refusal.size,
    })
    .onConflictDoNothing()
    .returning({ id: emailInbound.id });
  if (!row) return duplicateOf(db, mailbox, messageId);
  return { status: 'refused', inboundId: row.id, reason: refusal.reason };
}

/** Records a message refused before its bytes were fetched (IMAP knows its size and envelope first). */
export function refuseUnfetched(
  db: Database,
  mailbox: MailboxContext,
  refusal: { messageId: string; size: number; maxBytes: number; from?: string; subject?: string },
): Promise<IngestResult> {
  return refuse(db, mailbox, { ...refusal, reason: tooLarge(refusal.size, refusal.maxBytes) });
}

async function duplicateOf(db: Database, mailbox: MailboxContext, messageId: string): Promise<IngestResult> {
  const [existing] = await db
    .select({ id: emailInbound.id, ticketId: emailInbound.ticketId, emailId: emailInbound.emailId })
    .from(emailInbound)
    .where(sql`${emailInbound.integrationId} = ${mailbox.integrationId} and ${emailInbound.messageId} = ${messageId}`);
  return { status: 'duplicate', inboundId: existing!.id, ticketId: existing!.ticketId, emailId: existing!.emailId };
}

function tooLarge(size: number, limit: number): string {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `the message is ${mb(size)}, over this mailbox's limit of ${mb(limit)}; it was not filed`;
}
