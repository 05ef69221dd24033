// Short-lived signed links to one attachment, for people without a session: the ticket's requester in an email,
// a Slack user clicking through. A link names the attachment, its organisation, its purpose (the file or its
// thumbnail), who it was made for, and when it expires; all of it is under an HMAC, so changing any part, or using
// a download link for another file or purpose, fails. The key is derived from the master key ring (HKDF), so links
// need no secret of their own, and rotating the master keys leaves links made under the old key valid until they
// expire (the key id travels in the link).
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { KeyRing } from '../../common/config.ts';

export const linkPurposes = ['download', 'thumbnail'] as const;
export type LinkPurpose = (typeof linkPurposes)[number];

export type LinkClaims = {
  attachmentId: string;
  organizationId: string;
  purpose: LinkPurpose;
  /** Who the link was made for (a requester's customer id, a member's user id): the audit's "who". */
  recipient: string;
  /** Who made it (the member, or the integration that sent it): the audit names them beside the recipient. */
  madeBy: string;
  /** Unix seconds. */
  expiresAt: number;
};

export type SignedLinkQuery = { exp: string; kid: string; rcpt: string; by: string; sig: string };

/** The query string of a link: the path carries the attachment and purpose, the query the rest. */
export function signLink(keys: KeyRing, claims: LinkClaims): SignedLinkQuery {
  const kid = keys.activeKeyId;
  return {
    exp: String(claims.expiresAt),
    kid,
    rcpt: claims.recipient,
    by: claims.madeBy,
    sig: signature(keys, kid, claims).toString('base64url'),
  };
}

export type LinkVerdict = { ok: true; claims: LinkClaims } | { ok: false; reason: 'expired' | 'invalid' };

/** Checks a link against the attachment and purpose of the path it was used on. */
export function verifyLink(
  keys: KeyRing,
  path: { attachmentId: string; organizationId: string; purpose: LinkPurpose },
  query: Partial<SignedLinkQuery>,
  now = Date.now(),
): LinkVerdict {
  const { exp, kid, rcpt, by, sig } = query;
  if (!exp || !kid || rcpt === undefined || by === undefined || !sig || !/^\d{1,12}$/.test(exp))
    return { ok: false, reason: 'invalid' };
  if (!keys.keys.has(kid)) return { ok: false, reason: 'invalid' };
  const claims: LinkClaims = { ...path, recipient: rcpt, madeBy: by, expiresAt: Number(exp) };
  const expected = signature(keys, kid, claims);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
  // Checked after the signature, so an expired answer is only ever given for a link we made.
  if (claims.expiresAt * 1000 <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claims };
}

function signature(keys: KeyRing, kid: string, claims: LinkClaims): Buffer {
  const message = [
    'v1',
    claims.organizationId,
    claims.attachmentId,
    claims.purpose,
    claims.recipient,
    claims.madeBy,
    claims.expiresAt,
  ]
    .map((part) => encodeURIComponent(String(part)))
    .join('|');
  return createHmac('sha256', linkKey(keys, kid)).update(message).digest();
}

/** By master key buffer: a key ring reloaded with other keys derives anew. */
const derived = new WeakMap<Buffer, Buffer>();

function linkKey(keys: KeyRing, kid: string): Buffer {
  const master = keys.keys.get(kid);
  if (!master) throw new Error(`master key ${kid} is not in the key ring`);
  let key = derived.get(master);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'switchboard/files/links/v1', 32));
    derived.set(master, key);
  }
  return key;
}
