// DKIM, SPF, DMARC and ARC verdicts of an inbound message, with mailauth. DNS goes through a resolver whose servers
// the deployment chooses (EMAIL_DNS_SERVERS): production asks its own resolvers, tests a dnsmasq on loopback.
import { Resolver } from 'node:dns/promises';
import type { EmailAuthResults } from '@switchboard/database';
import type { DNSResolver } from 'mailauth';
import { onFirstUse } from '../../common/lazy-module.ts';

/** mailauth: loaded by the first message checked, not when the API starts (common/lazy-module.ts). */
const loadMailauth = onFirstUse(() => import('mailauth'));

/** A resolver for mailauth over the given servers (host or host:port); the system's when none are given. */
export function mailAuthResolver(servers: readonly string[], timeoutMs = 5_000): DNSResolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length > 0) resolver.setServers([...servers]);
  return async (name, rrtype) => {
    switch (rrtype) {
      case 'TXT':
        return resolver.resolveTxt(name);
      case 'MX':
        return (await resolver.resolveMx(name)).map((mx) => mx.exchange) as string[];
      case 'A':
        return resolver.resolve4(name);
      case 'AAAA':
        return resolver.resolve6(name);
      case 'PTR':
        return resolver.reverse(name);
      case 'CNAME':
        return resolver.resolveCname(name);
      case 'NS':
        return resolver.resolveNs(name);
      default:
        return resolver.resolve(name, rrtype) as Promise<string[]>;
    }
  };
}

export type ConnectionFacts = {
  /** The client that handed the message to our MTA, and the name it gave (from our own Received header). */
  ip: string | null;
  helo: string | null;
  /** The envelope sender (Return-Path), for SPF. */
  mailFrom: string | null;
};

const dkimResults = new Set(['pass', 'fail', 'none', 'neutral', 'temperror', 'permerror', 'policy']);
const spfResults = new Set(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror']);
const dmarcResults = new Set(['pass', 'fail', 'none', 'temperror', 'permerror']);

function pick<T extends string>(allowed: Set<string>, value: string | undefined, fallback: T): T {
  const normal = value === 'temperr' ? 'temperror' : value;
  return (normal && allowed.has(normal) ? normal : fallback) as T;
}

/**
 * The verdicts of one message. A message that reached us without a known client (no Received header of ours) gets
 * SPF `none`: SPF judges the connecting host, and guessing one would make a pass mean nothing.
 */
export async function authenticateMessage(
  raw: Buffer,
  connection: ConnectionFacts,
  options: { resolver: DNSResolver; mta: string },
): Promise<EmailAuthResults> {
  const { authenticate } = await loadMailauth();
  const result = await authenticate(raw, {
    ...(connection.ip ? { ip: connection.ip } : {}),
    ...(connection.helo ? { helo: connection.helo } : {}),
    ...(connection.mailFrom ? { sender: connection.mailFrom } : {}),
    mta: options.mta,
    resolver: options.resolver,
    disableBimi: true,
  });
  const signatures = result.dkim?.results ?? [];
  const dkimStatus = signatures.some((s) => s.status?.result === 'pass')
    ? 'pass'
    : (signatures[0]?.status?.result ?? 'none');
  const spf = connection.ip && result.spf ? result.spf : null;
  const dmarc = result.dmarc || null;
  return {
    dkim: pick(dkimResults, dkimStatus, 'none'),
    spf: pick(spfResults, spf?.status?.result, 'none'),
    dmarc: pick(dmarcResults, dmarc?.status?.result, 'none'),
    arc: result.arc ? (pick(new Set(['pass', 'fail', 'none']), result.arc.status?.result, 'none') as 'pass') : null,
    dmarcPolicy: dmarc?.p ?? dmarc?.policy ?? null,
    dkimDomains: [...new Set(signatures.map((s) => s.signingDomain).filter((d): d is string => !!d))],
    spfDomain: spf?.domain ?? null,
  };
}
