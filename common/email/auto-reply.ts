// When the acknowledgement of a new ticket may be sent. An auto-reply to an automated message is how mail loops
// start (FreeScout #3670, Chatwoot #5131: two autoresponders answering each other, or a helpdesk answering a bounce
// of its own answer). RFC 3834 §2 lists what a responder must not answer; list mail and Microsoft's suppression
// header are added here, and a per-sender window stops a loop with a responder that marks nothing.
import { isSameMailbox, splitAddress } from './addresses.ts';

/** Our loop header: every mail we send carries it, so mail of ours that comes back is recognised. */
export const LOOP_HEADER = 'X-Switchboard-Loop';

/** Header values as mailparser's `parsed.headers` gives them (strings, arrays, or structured objects such as its
 * `list` and address values), or as a plain record of raw values. Names are matched case-insensitively. */
export type MailHeaders = Map<string, unknown> | Record<string, unknown>;

export type AutoReplyInput = {
  headers: MailHeaders;
  /** The From address. */
  from: string;
  /** Every address we send from (support addresses, notification sender). */
  ourAddresses: string[];
  /** When we last auto-replied to this sender (any ticket), or null. */
  lastSentToSenderAt: Date | null;
  windowMs: number;
  now: Date;
  /** Our installation's loop-header value; lets the reason say whether the mail was ours or another Switchboard's. */
  loopHeaderValue?: string;
};

export type AutoReplyVerdict = { send: true } | { send: false; reason: string };

// RFC 3834 §2 (and the list in its appendix) names these as addresses a responder must not answer: bounces and
// postmasters, list software and list owners. The no-reply spellings are the common ones for transactional senders.
const MACHINE_LOCAL_PARTS = new Set([
  'mailer-daemon',
  'postmaster',
  'listserv',
  'majordomo',
  'no-reply',
  'noreply',
  'no_reply',
  'do-not-reply',
  'donotreply',
  'do_not_reply',
  'bounce',
  'bounces',
]);

/** Why the headers mark a message as automated (bulk, list, auto-reply, bounce, ours), or null for a person's mail. */
export function automatedMailReason(headers: MailHeaders): string | null {
  const get = headerReader(headers);

  const autoSubmitted = get('auto-submitted');
  if (autoSubmitted !== null) {
    // RFC 3834 §5: the keyword comes before any `;` parameters; anything but `no` means automatic.
    const keyword = autoSubmitted.split(';')[0]!.trim().toLowerCase();
    if (keyword !== 'no') return `Auto-Submitted: ${keyword || '(empty)'}`;
  }
  const precedence = get('precedence')?.trim().toLowerCase();
  // `auto_reply` is what several vacation responders (and older Exchange) write instead of Auto-Submitted.
  if (precedence && ['bulk', 'list', 'junk', 'auto_reply'].includes(precedence)) return `Precedence: ${precedence}`;
  // Microsoft's own signal: Exchange and Outlook set it on auto-replies, receipts and system mail. Any value counts.
  if (get('x-auto-response-suppress') !== null) return 'X-Auto-Response-Suppress';
  if (get('list-id') !== null || listField(headers, 'id')) return 'List-Id';
  if (get('list-unsubscribe') !== null || listField(headers, 'unsubscribe')) return 'List-Unsubscribe';
  // Vacation responders that set neither Auto-Submitted nor Precedence usually set one of these.
  if (get('x-autoreply') !== null || get('x-autorespond') !== null) return 'X-Autoreply';
  if (get(LOOP_HEADER.toLowerCase()) !== null) return LOOP_HEADER;
  // RFC 3834 §2: never respond to a null envelope sender (`Return-Path: <>`): that is a bounce or another response.
  const returnPath = get('return-path');
  if (returnPath !== null && returnPath.replace(/[<>\s]/g, '') === '') return 'null Return-Path';
  // Delivery and read reports (RFC 3462/6522 multipart/report) are machine mail whatever their other headers say.
  if (/^\s*multipart\/report\b/i.test(get('content-type') ?? '')) return 'multipart/report';
  return null;
}

/** Whether the headers mark a message as automated (the header rules of autoReplyVerdict), for marking it. */
export function isAutomatedMail(headers: MailHeaders): boolean {
  return automatedMailReason(headers) !== null;
}

export function autoReplyVerdict(input: AutoReplyInput): AutoReplyVerdict {
  const automated = automatedMailReason(input.headers);
  if (automated === LOOP_HEADER && input.loopHeaderValue !== undefined) {
    const ours = headerReader(input.headers)(LOOP_HEADER.toLowerCase())?.trim() === input.loopHeaderValue;
    return { send: false, reason: ours ? 'our own mail came back' : `sent by another helpdesk (${LOOP_HEADER})` };
  }
  if (automated) return { send: false, reason: `automated mail (${automated})` };

  const { local, domain } = splitAddress(input.from);
  if (!local || !domain) return { send: false, reason: 'no sender address to reply to' };
  if (MACHINE_LOCAL_PARTS.has(local) || local.startsWith('owner-') || local.endsWith('-request'))
    return { send: false, reason: `machine sender (${local}@)` };
  if (input.ourAddresses.some((ours) => isSameMailbox(ours, input.from)))
    return { send: false, reason: 'sender is one of our own addresses' };

  if (input.lastSentToSenderAt && input.now.getTime() - input.lastSentToSenderAt.getTime() < input.windowMs)
    return { send: false, reason: 'already auto-replied to this sender within the window' };
  return { send: true };
}

/** The headers our auto-replies carry: RFC 3834's marker, Microsoft's suppression (so Exchange does not answer with
 * its own out-of-office), and our loop header. Other mail we send should carry LOOP_HEADER too. */
export function autoReplyHeaders(loopValue: string): Record<string, string> {
  return {
    'Auto-Submitted': 'auto-replied',
    'X-Auto-Response-Suppress': 'All',
    [LOOP_HEADER]: loopValue,
  };
}

/** A case-insensitive reader returning the first value as text, or null when the header is absent. */
function headerReader(headers: MailHeaders): (name: string) => string | null {
  const entries: Array<[string, unknown]> = headers instanceof Map ? [...headers] : Object.entries(headers);
  const byName = new Map<string, unknown>();
  for (const [name, value] of entries) {
    const key = name.toLowerCase();
    if (!byName.has(key)) byName.set(key, value);
  }
  return (name) => {
    if (!byName.has(name)) return null;
    return asText(byName.get(name));
  };
}

function asText(value: unknown): string {
  if (value == null) return '';
  if (Array.isArray(value)) return value.length ? asText(value[0]) : '';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    // mailparser: addresses are { value, text }, structured headers such as Content-Type are { value, params }.
    const o = value as { text?: unknown; value?: unknown };
    if (typeof o.text === 'string') return o.text;
    if (typeof o.value === 'string') return o.value;
    return '';
  }
  return String(value);
}

/** mailparser folds List-* headers into one `list` object ({ id, unsubscribe, … }). */
function listField(headers: MailHeaders, field: string): boolean {
  const list = headers instanceof Map ? headers.get('list') : (headers as Record<string, unknown>).list;
  return typeof list === 'object' && list !== null && field in list;
}
