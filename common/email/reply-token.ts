// Reply tokens: `support+<token>@example.com` routes a reply to its ticket even when the customer's client drops the
// threading headers and rewrites the subject. The token carries the ticket id and a MAC over it, so it cannot be
// guessed or altered to reach another ticket: a token that verifies is proof enough to join its ticket, without the
// participant check the header-based steps need (the reply may legitimately come from a colleague the customer
// forwarded our mail to).
//
// Layout: the ticket UUID's 16 bytes, then the first 10 bytes (80 bits) of HMAC-SHA256(key, label ‖ uuid bytes).
// 80 bits is above the 64-bit floor NIST SP 800-107 sets for truncated MACs; guessing one means ~2^79 emails.
// Encoding: RFC 4648 base32 in lowercase, without padding, 42 characters. Base32 rather than base64 because MTAs and
// mail clients may case-fold local parts, and because `/`, `+` and `=` are awkward in an address. With the 64-octet
// local-part limit of RFC 5321, a support local part of up to 21 characters keeps `local+token` within it (longer
// ones still work with every common MTA, which do not enforce the limit).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { splitAddress } from './addresses.ts';

const LABEL = Buffer.from('switchboard/email-reply-token/v1\0', 'utf8');
const ID_BYTES = 16;
const MAC_BYTES = 10;
const TOKEN_BYTES = ID_BYTES + MAC_BYTES;
export const REPLY_TOKEN_LENGTH = Math.ceil((TOKEN_BYTES * 8) / 5); // 42
const MIN_KEY_BYTES = 16;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function mac(id: Uint8Array, key: Uint8Array): Buffer {
  if (key.byteLength < MIN_KEY_BYTES) throw new RangeError(`reply-token key must be at least ${MIN_KEY_BYTES} bytes`);
  return createHmac('sha256', key).update(LABEL).update(id).digest().subarray(0, MAC_BYTES);
}

/** The token for a ticket. Throws on a ticket id that is not a UUID (a programming error, not user input). */
export function makeReplyToken(ticketId: string, key: Uint8Array): string {
  if (!UUID.test(ticketId)) throw new TypeError('reply-token ticket id must be a UUID');
  const id = Buffer.from(ticketId.replace(/-/g, ''), 'hex');
  return base32Encode(Buffer.concat([id, mac(id, key)]));
}

/**
 * The ticket id (lowercase UUID) of a genuine token, or null for anything else: wrong length or alphabet, altered
 * id, forged MAC. Case-insensitive (MTAs may upper-case the address). The MAC comparison is constant-time.
 */
export function readReplyToken(token: string, key: Uint8Array): string | null {
  const t = String(token ?? '')
    .trim()
    .toLowerCase();
  if (t.length !== REPLY_TOKEN_LENGTH) return null;
  const bytes = base32Decode(t, TOKEN_BYTES);
  if (!bytes) return null;
  const id = bytes.subarray(0, ID_BYTES);
  if (!timingSafeEqual(bytes.subarray(ID_BYTES), mac(id, key))) return null;
  const hex = id.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `support@example.com` + token → `support+<token>@example.com` (normalised: lowercase, no display name). */
export function replyAddress(supportAddress: string, token: string): string {
  const { local, domain } = splitAddress(supportAddress);
  if (!local || !domain) throw new TypeError('support address must be local@domain');
  return `${local}+${token.toLowerCase()}@${domain}`;
}

/**
 * The `+tag`s of addresses that are sub-addresses of our support address (same domain, same local part before the
 * tag), de-duplicated, in the order given: the candidates for readReplyToken. Pass every recipient (To, Cc, Delivered-To,
 * the envelope's RCPT TO where known); a reply may name us in any of them. If the support address itself carries a
 * tag (`support+eu@`), only tags that extend it (`support+eu+<token>@`) count.
 */
export function tokensInAddresses(addresses: string[], supportAddress: string): string[] {
  const support = splitAddress(supportAddress);
  if (!support.local || !support.domain) return [];
  const prefix = `${support.local}+`;
  const tokens: string[] = [];
  for (const address of addresses) {
    const { local, domain } = splitAddress(address);
    if (domain !== support.domain || !local.startsWith(prefix)) continue;
    const tag = local.slice(prefix.length);
    if (tag && !tokens.includes(tag)) tokens.push(tag);
  }
  return tokens;
}

function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** Exactly `length` bytes, or null; the unused trailing bits must be zero, so each value has one spelling. */
function base32Decode(text: string, length: number): Buffer | null {
  const out = Buffer.alloc(length);
  let buffer = 0;
  let bits = 0;
  let n = 0;
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch);
    if (v === -1) return null;
    buffer = (buffer << 5) | v;
    bits += 5;
    if (bits >= 8) {
      if (n === length) return null;
      out[n++] = (buffer >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  if (n !== length || buffer !== 0) return null;
  return out;
}
