// The connecting IP and HELO name that SPF (and DMARC through it) are checked against, read from the `Received`
// header our own MTA added. Every Received header below that one was written by machines we do not run and can say
// anything, so only the topmost one counts, except Dovecot's LMTP delivery header (`from <our MTA> ([ip]) by <us>
// with LMTP`), which sits above it and records the hop from our MTA to the mailbox. If that header cannot be read,
// the answer is null (unknown), never a guess from a lower, forgeable header.
//
// Shapes read (the `from` clause, RFC 5321 §4.4 "Extended-Domain"):
//   OpenSMTPD  from helo (rdns [192.0.2.1])        from helo (rdns IPv6:2001:db8::1)
//   Postfix    from helo (rdns [192.0.2.1])        from helo (unknown [IPv6:2001:db8::1])
//   Sendmail   from helo (rdns [192.0.2.1] (may be forged))
//   Exim       from rdns ([192.0.2.1] helo=helo)   from [192.0.2.1] (helo=helo)   ([192.0.2.1]:2525 helo=…)
//   Exchange   from helo (2603:10a6:20b::12)
import ipaddr from 'ipaddr.js';

export type ConnectionInfo = { ip: string; helo: string };

export function connectionFromReceived(received: string[]): ConnectionInfo | null {
  for (const value of received) {
    const header = String(value ?? '')
      .replace(/\s+/g, ' ')
      .trim();
    if (/\bwith LMTPS?A?\b/i.test(header)) continue;
    return parseFromClause(header);
  }
  return null;
}

function parseFromClause(header: string): ConnectionInfo | null {
  const m = /^from (\S+)(.*?)(?: by |;|$)/i.exec(header);
  if (!m) return null;
  const from = m[1]!;
  const rest = m[2] ?? '';
  const ip = ipIn(rest) ?? literal(from);
  if (!ip) return null;
  // Exim names the HELO in the comment; the others put it first.
  return { ip, helo: /\bhelo=([^\s)]+)/i.exec(rest)?.[1] ?? from };
}

/** The first IP address in the comment part of the from clause. */
function ipIn(text: string): string | null {
  for (const m of text.matchAll(/\[(?:IPv6:)?([0-9a-f:.]+)\]/gi)) {
    const ip = normalizeIp(m[1]!);
    if (ip) return ip;
  }
  for (const token of text.split(/[\s()]+/)) {
    const ip = normalizeIp(token.replace(/^IPv6:/i, ''));
    if (ip) return ip;
  }
  return null;
}

/** A from token that is an address literal (`[192.0.2.1]`, `[IPv6:…]`). */
function literal(from: string): string | null {
  const m = /^\[(?:IPv6:)?([0-9a-f:.]+)\]$/i.exec(from);
  return m ? normalizeIp(m[1]!) : null;
}

/** Canonical text of an IP, IPv4-mapped IPv6 as IPv4 (what SPF evaluates); null for anything else. */
function normalizeIp(text: string): string | null {
  if (!ipaddr.isValid(text)) return null;
  // ipaddr.js also accepts legacy IPv4 forms (`0x7f.1`, `127.1`); SMTP servers write dotted quads only.
  if (!text.includes(':') && !/^\d{1,3}(?:\.\d{1,3}){3}$/.test(text)) return null;
  return ipaddr.process(text).toString();
}
