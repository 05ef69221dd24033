// The email module's settings (EMAIL_*, documented in the README): which mail servers an organisation's mailbox may
// reach, the DNS servers that authentication checks ask, and the limits of one message and one IMAP round.
import { parseAllowList } from '../../../activities/http/ssrf-guard.ts';
import { commaList, flag, wholeNumber } from '../../../common/env-values.ts';
import { moduleSettings } from '../../../common/integration-settings.ts';

const MB = 1024 * 1024;

export type EmailSettings = {
  /**
   * CIDRs an organisation's IMAP and SMTP servers may be on although they are private or loopback (none by default:
   * an admin's mail server must not reach the deployment's internal network).
   */
  allowCidrs: string[];
  /** Connections without TLS (`security: none`) are refused unless a deployment opts in (tests, a local relay). */
  allowInsecure: boolean;
  /** DNS servers (host or host:port) for DKIM, SPF and DMARC lookups; empty: the system's. */
  dnsServers: string[];
  /** A larger message is refused (recorded on the mailbox) without being downloaded. */
  maxMessageBytes: number;
  /** How long one mailbox activity waits in IDLE before it returns to its workflow (which loops). */
  idleSeconds: number;
  /** Messages fetched and ingested per round of a mailbox. */
  fetchBatch: number;
  /** Connecting to, and each command of, an IMAP or SMTP server. */
  timeoutMs: number;
};

/** Read with `emailSettings.of(config)`. */
export const emailSettings = moduleSettings(
  'email',
  (env): EmailSettings => ({
    allowCidrs: allowList(env.EMAIL_ALLOW_CIDRS),
    allowInsecure: flag('EMAIL_ALLOW_INSECURE', env.EMAIL_ALLOW_INSECURE),
    dnsServers: commaList(env.EMAIL_DNS_SERVERS),
    maxMessageBytes: wholeNumber('EMAIL_MAX_MESSAGE_BYTES', env.EMAIL_MAX_MESSAGE_BYTES, 25 * MB, 1),
    idleSeconds: wholeNumber('EMAIL_IDLE_SECONDS', env.EMAIL_IDLE_SECONDS, 300, 1),
    fetchBatch: wholeNumber('EMAIL_FETCH_BATCH', env.EMAIL_FETCH_BATCH, 50, 1),
    timeoutMs: wholeNumber('EMAIL_TIMEOUT_MS', env.EMAIL_TIMEOUT_MS, 30_000, 1),
  }),
);

function allowList(value: string | undefined): string[] {
  const cidrs = commaList(value);
  try {
    parseAllowList(cidrs);
  } catch (error) {
    throw new Error(`EMAIL_ALLOW_CIDRS: ${error instanceof Error ? error.message : String(error)}`);
  }
  return cidrs;
}
