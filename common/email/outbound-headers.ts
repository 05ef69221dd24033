// Threading headers of the mail we send, so the customer's client files our reply in the conversation and the
// customer's answer names it. RFC 5322 §3.6.4: In-Reply-To names the message answered, References the chain.
// Outlook threads by its own Thread-Index (MS-OXOMSG §2.2.1.3) where the conversation already has one.
import { randomInt } from 'node:crypto';
import { formatMessageId, normalizeMessageId } from './message-id.ts';

/** How many References we send at most: the thread's first message plus the most recent ones. Long chains get
 * truncated by mail systems anyway (header line limits); the first and the last entries are what clients use. */
export const MAX_REFERENCES = 20;

export type ThreadHeaders = { inReplyTo: string | null; references: string[] };

/**
 * In-Reply-To and References for a new message in a thread given oldest first. In-Reply-To is the latest message,
 * inbound or outbound (the customer's client then shows our reply under whatever came last); References is the
 * chain, de-duplicated, capped to the first plus the latest MAX_REFERENCES - 1. Ids come out in header form, `<…>`.
 */
export function threadHeaders(thread: Array<{ messageId: string; direction: 'inbound' | 'outbound' }>): ThreadHeaders {
  const ids = [...new Set(thread.map((m) => normalizeMessageId(m.messageId)).filter((id) => id.includes('@')))];
  if (!ids.length) return { inReplyTo: null, references: [] };
  const kept = ids.length <= MAX_REFERENCES ? ids : [ids[0]!, ...ids.slice(ids.length - (MAX_REFERENCES - 1))];
  const latest = normalizeMessageId(thread.findLast((m) => normalizeMessageId(m.messageId).includes('@'))!.messageId);
  return { inReplyTo: formatMessageId(latest), references: kept.map(formatMessageId) };
}

// RFC 5322 dot-atom text, which both halves of a Message-ID we generate must be.
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** `<id@domain>`. Throws on an id or domain that is not dot-atom text (a programming error: ids are ours). */
export function newMessageId(id: string, domain: string): string {
  const d = String(domain ?? '')
    .trim()
    .toLowerCase()
    .replace(/\.$/, '');
  if (!DOT_ATOM.test(id)) throw new TypeError('message id must be RFC 5322 dot-atom text');
  if (!DOT_ATOM.test(d)) throw new TypeError('message id domain must be RFC 5322 dot-atom text');
  return `<${id}@${d}>`;
}

// Thread-Index: a 22-byte header (the first 6 bytes of the 8-byte FILETIME of the conversation's start, then a
// 16-byte GUID) and one 5-byte block per reply. MS-OXOMSG describes the header as a reserved 0x01 byte and 40 bits
// of time; what Outlook writes, and what readers such as libpst decode, is FILETIME >> 16 in six bytes (whose first
// byte is 0x01 for any date between 1829 and 2057, hence "reserved"). A reply block: 1 bit delta code, 31 bits of
// the time since the header's time, 8 random bits. With delta code 0 the 31 bits are bits 18–48 of the difference in
// FILETIME units (100 ns); past 2^49 units (about 1.78 years) the code is 1 and the bits are 23–53.
const HEADER_BYTES = 22;
const CHILD_BYTES = 5;
const FILETIME_UNIX_EPOCH = 116444736000000000n; // 1970-01-01 in 100-ns units since 1601-01-01

function fileTime(date: Date): bigint {
  return BigInt(date.getTime()) * 10000n + FILETIME_UNIX_EPOCH;
}

/** Whether a Thread-Index header value is well formed: base64 of a 22-byte header plus whole 5-byte blocks. */
export function isThreadIndex(value: string): boolean {
  const v = String(value ?? '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(v) || v.length % 4 !== 0) return false;
  const bytes = Buffer.from(v, 'base64');
  return bytes.length >= HEADER_BYTES && (bytes.length - HEADER_BYTES) % CHILD_BYTES === 0;
}

/** A new conversation's Thread-Index. `guid` is 16 bytes identifying the conversation (any random UUID's bytes). */
export function newThreadIndex(now: Date, guid: Uint8Array): string {
  if (guid.byteLength !== 16) throw new RangeError('thread-index guid must be 16 bytes');
  const header = Buffer.alloc(HEADER_BYTES);
  const time = fileTime(now) >> 16n;
  for (let i = 0; i < 6; i++) header[i] = Number((time >> BigInt(8 * (5 - i))) & 0xffn);
  header.set(guid, 6);
  return header.toString('base64');
}

/**
 * The Thread-Index of a reply to a message whose Thread-Index is `parent`: the parent's bytes plus one reply block.
 * `random` (0–255) separates replies written in the same instant; it is random unless given (tests).
 * Throws on a malformed parent (check with isThreadIndex first; the header is customer-supplied).
 */
export function childThreadIndex(parent: string, now: Date, random: number = randomInt(256)): string {
  if (!isThreadIndex(parent)) throw new RangeError('not a Thread-Index value');
  const bytes = Buffer.from(parent.replace(/\s+/g, ''), 'base64');
  let start = 0n;
  for (let i = 0; i < 6; i++) start = (start << 8n) | BigInt(bytes[i]!);
  start <<= 16n;
  let delta = fileTime(now) - start;
  if (delta < 0n) delta = 0n; // a parent stamped in our future (clock skew): the reply is "at the same time"
  const code = delta < 1n << 49n ? 0n : 1n;
  const bits = (code === 0n ? delta >> 18n : delta >> 23n) & 0x7fffffffn;
  const block = (code << 39n) | (bits << 8n) | BigInt(random & 0xff);
  const child = Buffer.alloc(CHILD_BYTES);
  for (let i = 0; i < CHILD_BYTES; i++) child[i] = Number((block >> BigInt(8 * (CHILD_BYTES - 1 - i))) & 0xffn);
  return Buffer.concat([bytes, child]).toString('base64');
}
