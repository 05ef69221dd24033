// One raw message, parsed with mailparser into what ingest needs: addresses, threading headers, the text (full and
// trimmed for display), the HTML sanitised for display, the headers that mark automated mail, and the attachments.
// mailparser decodes charsets and transfer encodings; the message was size-checked before it got here, so holding
// its parts in memory is bounded by EMAIL_MAX_MESSAGE_BYTES.
import { createHash } from 'node:crypto';
import type { AddressObject, ParsedMail } from 'mailparser';
import { normalizeAddress } from '../../common/email/addresses.ts';
import { htmlToPlainText, sanitizeEmailHtml } from '../../common/email/html.ts';
import { isStorableMessageId, normalizeMessageId, parseMessageIds } from '../../common/email/message-id.ts';
import { splitQuoted } from '../../common/email/quoted-text.ts';
import { onFirstUse } from '../../common/lazy-module.ts';

/** The MIME parser: loaded by the first message, not when the API starts (common/lazy-module.ts). */
const loadMailparser = onFirstUse(() => import('mailparser'));

export type InboundAttachment = { name: string; mime: string; size: number; content: Buffer };

export type ParsedInbound = {
  /** The message's Message-ID, or one made from the SHA-256 of its bytes when it has none (still idempotent). */
  messageId: string;
  from: { address: string; name: string | null };
  to: string[];
  cc: string[];
  /** Return-Path: the envelope sender, for SPF. */
  mailFrom: string | null;
  subject: string;
  date: Date | null;
  text: string;
  html: string | null;
  displayText: string;
  inReplyTo: string | null;
  references: string[];
  threadIndex: string | null;
  /** Lower-cased header names to values: what the auto-reply rules read. */
  headers: Record<string, string | string[]>;
  /** The Received headers, topmost first. */
  received: string[];
  attachments: InboundAttachment[];
};

export class MalformedMessageError extends Error {
  override name = 'MalformedMessageError';
}

/** The longest From address taken: RFC 5321's 64-octet local part, `@` and 255-octet domain. */
const MAX_ADDRESS_BYTES = 320;

/** Headers the auto-reply and loop rules look at (common/email/auto-reply.ts). */
const ruleHeaders = [
  'auto-submitted',
  'precedence',
  'x-auto-response-suppress',
  'list-id',
  'list-unsubscribe',
  'x-switchboard-loop',
  'x-autoreply',
  'x-autorespond',
  // A null envelope sender (a bounce) and multipart/report (delivery and read receipts) are machine mail too.
  'return-path',
  'content-type',
];

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  const out: string[] = [];
  const walk = (entries: AddressObject['value']) => {
    for (const entry of entries) {
      if (entry.address) out.push(normalizeAddress(entry.address));
      if (entry.group) walk(entry.group);
    }
  };
  for (const object of list) walk(object.value);
  return [...new Set(out)];
}

function headerText(parsed: ParsedMail, name: string): string | null {
  const line = parsed.headerLines.find((h) => h.key === name)?.line;
  if (!line) return null;
  return line.slice(line.indexOf(':') + 1).trim() || null;
}

export async function parseInbound(raw: Buffer): Promise<ParsedInbound> {
  const { simpleParser } = await loadMailparser();
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, keepCidLinks: true });
  } catch (error) {
    throw new MalformedMessageError(
      `the message could not be parsed as MIME (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  const fromEntry = (parsed.from?.value ?? []).find((entry) => entry.address);
  if (!fromEntry?.address) throw new MalformedMessageError('the message has no From address');
  // RFC 5321 caps a path at 256 octets; a longer From is nobody's mailbox, and its sender becomes a customer's key.
  if (Buffer.byteLength(fromEntry.address, 'utf8') > MAX_ADDRESS_BYTES)
    throw new MalformedMessageError(`the From address is longer than ${MAX_ADDRESS_BYTES} bytes`);
  if (parsed.headerLines.length === 0) throw new MalformedMessageError('the message has no headers');

  const headers: Record<string, string | string[]> = {};
  for (const name of ruleHeaders) {
    const lines = parsed.headerLines
      .filter((h) => h.key === name)
      .map((h) => h.line.slice(h.line.indexOf(':') + 1).trim());
    if (lines.length === 1) headers[name] = lines[0]!;
    else if (lines.length > 1) headers[name] = lines;
  }
  const html = typeof parsed.html === 'string' && parsed.html.trim() ? await sanitizeEmailHtml(parsed.html) : null;
  const text = parsed.text?.trim() ? parsed.text : html ? htmlToPlainText(html) : '';
  const returnPath = headerText(parsed, 'return-path')?.replace(/[<>]/g, '').trim() || null;
  // PostgreSQL text cannot hold NUL, and a decoded subject or body can carry one (=00, base64): stored as is it would
  // fail the ingest on every retry and stall the mailbox. Attachment bytes stay as they are.
  return withoutNul({
    // Stored and compared bare (no angle brackets), as threading looks them up.
    messageId: isStorableMessageId(normalizeMessageId(parsed.messageId ?? ''))
      ? normalizeMessageId(parsed.messageId!)
      : `${createHash('sha256').update(raw).digest('hex')}@switchboard.invalid`,
    from: { address: normalizeAddress(fromEntry.address), name: fromEntry.name?.trim() || null },
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    mailFrom: returnPath,
    subject: (parsed.subject ?? '').trim(),
    date: parsed.date ?? null,
    text,
    html,
    displayText: splitQuoted(text).visible.trim() || text.trim(),
    inReplyTo: parseMessageIds(parsed.inReplyTo)[0] ?? null,
    references: parseMessageIds(parsed.references),
    threadIndex: headerText(parsed, 'thread-index'),
    headers,
    received: parsed.headerLines
      .filter((h) => h.key === 'received')
      .map((h) => h.line.slice(h.line.indexOf(':') + 1).trim()),
    // Inline images (a signature's logo) too: every part is stored or its refusal shown, none dropped silently.
    attachments: parsed.attachments.map((a, index) => ({
      name: a.filename?.trim() || `attachment-${index + 1}`,
      mime: a.contentType || 'application/octet-stream',
      size: a.size ?? a.content.length,
      content: a.content,
    })),
  });
}

/** The value with every NUL character removed from its strings, Buffers untouched. */
function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\0') ? value.replaceAll('\0', '') : value) as T;
  if (Array.isArray(value)) return value.map(withoutNul) as T;
  if (value && typeof value === 'object' && !Buffer.isBuffer(value) && !(value instanceof Date))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutNul(v)])) as T;
  return value;
}
