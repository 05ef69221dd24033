// Where a mailbox's IMAP or SMTP connection may go, and its failures in plain words. An admin types the host, so it
// is resolved and checked like a webhook URL (no private or loopback address unless the deployment allows the
// range), and the connection goes to exactly the checked address, with the typed name kept for TLS.
import { isIP } from 'node:net';
import { DnsError, SsrfRefusedError } from '../http/errors.ts';
import { resolveAllowedAddresses, systemResolve } from '../http/guarded-agent.ts';
import { parseAllowList } from '../http/ssrf-guard.ts';

export type MailServer = { host: string; port: number; security: 'tls' | 'starttls' | 'none' };
export type MailProtocol = 'IMAP' | 'SMTP';

export class MailConfigError extends Error {
  override name = 'MailConfigError';
}

/** The checked address to connect to, and the name TLS verifies the certificate against. */
export async function connectTarget(
  server: MailServer,
  settings: { allowCidrs: readonly string[]; allowInsecure: boolean },
  protocol: MailProtocol,
): Promise<{ address: string; servername: string }> {
  if (server.security === 'none' && !settings.allowInsecure)
    throw new MailConfigError(
      `${protocol} without TLS is not allowed by this deployment: choose tls or starttls for ${server.host}`,
    );
  const [first] = await resolveAllowedAddresses(server.host, {
    allowList: parseAllowList(settings.allowCidrs),
    resolve: systemResolve,
  });
  // Certificates name hosts, not addresses: an IP literal is verified as typed.
  return { address: first!.address, servername: isIP(server.host) ? '' : server.host };
}

/** A mail server failure as an admin can act on it, and a type that says whether waiting can fix it. */
export function describeMailError(
  error: unknown,
  protocol: MailProtocol,
  host: string,
): { type: string; message: string } {
  const e = error as {
    code?: string;
    message?: string;
    authenticationFailed?: boolean;
    responseText?: string;
    responseCode?: number;
    response?: string;
  };
  const where = `${protocol} ${host}`;
  if (error instanceof MailConfigError) return { type: 'MailConfigError', message: error.message };
  if (error instanceof SsrfRefusedError) return { type: 'MailConfigError', message: `${where}: ${error.message}` };
  if (error instanceof DnsError || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
    return { type: 'MailConnectionError', message: `${where}: host not found` };
  if (e.authenticationFailed || e.code === 'EAUTH' || /AUTHENTICATIONFAILED/i.test(e.message ?? ''))
    return {
      type: 'MailAuthenticationError',
      message: `${where}: wrong user name or password (the server said: ${clean(e.responseText ?? e.response ?? e.message)})`,
    };
  const said = `${e.code ?? ''} ${e.message ?? ''}`;
  if (e.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(said))
    return { type: 'MailConnectionError', message: `${where}: connection refused` };
  if (
    e.code === 'ETIMEDOUT' ||
    e.code === 'ETIMEOUT' ||
    e.code === 'CONNECT_TIMEOUT' ||
    /timed? ?out/i.test(e.message ?? '')
  )
    return { type: 'MailConnectionError', message: `${where}: no answer in time` };
  if (/ETIMEDOUT|ECONNRESET|socket hang up/i.test(said) && !/TLS|SSL/i.test(said))
    return { type: 'MailConnectionError', message: `${where}: the connection dropped (${clean(e.message)})` };
  if (e.code === 'ETLS' || /SSL|TLS|certificate|wrong version number|EPROTO/i.test(said))
    return {
      type: 'MailConnectionError',
      message: `${where}: TLS failed (${clean(e.message)}); check the port and security setting (tls, starttls or none)`,
    };
  return { type: 'MailConnectionError', message: `${where}: ${clean(e.responseText ?? e.response ?? e.message)}` };
}

/** Server words, one line, short: they go into integration health, which every member may read. */
function clean(text: string | undefined): string {
  return (text ?? 'unknown error').replace(/\s+/g, ' ').trim().slice(0, 300);
}
