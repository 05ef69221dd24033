// Which addresses and URLs a webhook delivery may reach. Pure (no I/O): the API uses it to refuse a bad URL when
// it is saved, and the guarded agent applies it to every address a hostname resolves to, at connect time.
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = readonly [Address, number];

/** CIDRs a deployment explicitly lets deliveries reach even though they are internal (tests: 127.0.0.0/8). */
export type AllowList = readonly Cidr[];

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/** Parses CIDRs ("10.1.0.0/16", "::1/128"; a bare address means just that address), naming any bad entry. */
export function parseAllowList(cidrs: readonly string[]): AllowList {
  return cidrs.map((entry) => {
    const text = entry.trim();
    try {
      if (text.includes('/')) return ipaddr.parseCIDR(text) as Cidr;
      const address = ipaddr.parse(text);
      return [address, address.kind() === 'ipv4' ? 32 : 128] as const;
    } catch {
      throw new RangeError(`allow-list entry "${entry}" is not an IP address or CIDR`);
    }
  });
}

const rangeDescriptions: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local (cloud metadata lives here)',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private network',
  reserved: 'reserved or documentation',
  uniqueLocal: 'unique local (private IPv6)',
  deprecatedSiteLocal: 'site-local',
  rfc6145: 'IPv4-translated',
  teredo: 'Teredo tunnel',
  benchmarking: 'benchmarking',
  discard: 'discard-only',
};

function describeRange(range: string): string {
  return rangeDescriptions[range] ?? range;
}

function allowListed(address: Address, allowList: AllowList): boolean {
  return allowList.some(([network, bits]) => address.kind() === network.kind() && address.match(network, bits));
}

/** The IPv4 address an IPv6 address stands for, for the forms that carry one. */
function embeddedIPv4(address: ipaddr.IPv6): { v4: ipaddr.IPv4; form: string } | undefined {
  const parts = address.parts;
  const fromWords = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  const range = address.range();
  if (range === 'ipv4Mapped') return { v4: address.toIPv4Address(), form: 'IPv4-mapped' };
  // 64:ff9b::/96: a NAT64 gateway forwards to the IPv4 address in the last 32 bits.
  if (range === 'rfc6052' && parts[2] === 0) return { v4: fromWords(parts[6]!, parts[7]!), form: 'NAT64' };
  // 2002:AABB:CCDD::/48 tunnels to AA.BB.CC.DD.
  if (range === '6to4') return { v4: fromWords(parts[1]!, parts[2]!), form: '6to4' };
  return undefined;
}

/**
 * The kind of range only ("private network", "loopback"), never the address: what may be said about an address a
 * hostname resolved to. The endpoint's members see delivery errors, and an internal DNS answer is not theirs to see.
 */
export function refusedRange(text: string): string {
  let address: Address;
  try {
    address = ipaddr.parse(canonicalIPv6(text));
  } catch {
    return 'unparseable';
  }
  const embedded = address.kind() === 'ipv6' ? embeddedIPv4(address as ipaddr.IPv6) : undefined;
  const inner = embedded ? refusalReason(embedded.v4) : undefined;
  return inner ?? refusalReason(address) ?? 'allowed';
}

function refusalReason(address: Address): string | undefined {
  if (address.kind() === 'ipv4') {
    const range = address.range();
    return range === 'unicast' ? undefined : describeRange(range);
  }
  const v6 = address as ipaddr.IPv6;
  const range = v6.range();
  const embedded = embeddedIPv4(v6);
  if (embedded) {
    const inner = refusalReason(embedded.v4);
    return inner === undefined ? undefined : `${embedded.form} form of ${embedded.v4.toString()} (${inner})`;
  }
  // ::a.b.c.d, the deprecated IPv4-compatible form (:: and ::1 are caught as unspecified and loopback below).
  if (range === 'unicast' && v6.parts.slice(0, 6).every((p) => p === 0)) return 'IPv4-compatible (deprecated)';
  // 64:ff9b:1::/48 is NAT64 for local use: by definition internal.
  if (range === 'rfc6052') return 'local-use NAT64';
  return range === 'unicast' ? undefined : describeRange(range);
}

/**
 * IPv6 text as the operating system reads it. ipaddr.js parses "::127.0.0.1" as IPv4-mapped, while inet_pton (what
 * a connect uses) reads the IPv4-compatible ::7f00:1; the WHATWG URL parser agrees with inet_pton.
 */
function canonicalIPv6(text: string): string {
  if (!text.includes(':')) return text;
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return text; // zone ids ("fe80::1%eth0") are not URL syntax; ipaddr.js reads them
  }
}

/**
 * May a delivery connect to this IP address? Only globally routable unicast addresses, unless the allow-list
 * names it. IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4) are judged by the IPv4 address they
 * reach, so "::ffff:127.0.0.1" is refused like 127.0.0.1 and allowed by an allow-list naming 127.0.0.0/8.
 */
export function checkAddress(text: string, allowList: AllowList = []): AddressVerdict {
  let address: Address;
  try {
    address = ipaddr.parse(canonicalIPv6(text));
  } catch {
    return { allowed: false, reason: `${text} is not an IP address` };
  }
  const embedded = address.kind() === 'ipv6' ? embeddedIPv4(address as ipaddr.IPv6) : undefined;
  if (allowListed(address, allowList) || (embedded && allowListed(embedded.v4, allowList))) return { allowed: true };
  const reason = refusalReason(address);
  return reason === undefined ? { allowed: true } : { allowed: false, reason };
}

export type UrlPolicy = {
  /** Plain http is refused unless the deployment allows it (local development, tests). */
  allowHttp: boolean;
  allowList: AllowList;
};

export type UrlVerdict = { ok: true; url: URL } | { ok: false; code: 'invalid_url' | 'ssrf_refused'; reason: string };

/** The IP literal a URL names as its host, if any (WHATWG URL parsing already normalised 0x7f.1 and friends). */
function literalAddress(url: URL): string | undefined {
  if (url.hostname.startsWith('[')) return url.hostname.slice(1, -1);
  return ipaddr.IPv4.isValidFourPartDecimal(url.hostname) ? url.hostname : undefined;
}

/**
 * The URL policy, checked when an endpoint is saved and again before every delivery: http(s) only, https unless
 * allowed, no credentials in the URL (they would be sent to every redirect target and shown in logs; custom headers
 * are the place for them), and an IP-literal host must pass the address check. Hostnames are checked at connect
 * time, after DNS resolution, by the guarded agent.
 */
export function checkEndpointUrl(text: string, policy: UrlPolicy): UrlVerdict {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, code: 'invalid_url', reason: 'not a valid absolute URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    // Name what this deployment accepts: "use https" is wrong advice where http is allowed too.
    const allowed = policy.allowHttp ? 'https or http' : 'https';
    return {
      ok: false,
      code: 'invalid_url',
      reason: `scheme ${url.protocol.slice(0, -1)} is not allowed; use ${allowed}`,
    };
  }
  if (url.protocol === 'http:' && !policy.allowHttp)
    return { ok: false, code: 'invalid_url', reason: 'https is required (plain http is not allowed here)' };
  if (url.username !== '' || url.password !== '')
    return { ok: false, code: 'invalid_url', reason: 'credentials in the URL are not allowed; use a custom header' };
  const literal = literalAddress(url);
  if (literal !== undefined) {
    const verdict = checkAddress(literal, policy.allowList);
    if (!verdict.allowed)
      return { ok: false, code: 'ssrf_refused', reason: `${literal} is ${withArticle(verdict.reason)} address` };
  }
  return { ok: true, url };
}

/** "a private network", "an IPv4-mapped form...": for messages shown to the endpoint's owner. */
export function withArticle(reason: string): string {
  return `${/^[aeiou]/i.test(reason) ? 'an' : 'a'} ${reason}`;
}
