// Real mail servers for the email tests: Dovecot (IMAP, LMTP), OpenSMTPD delivering into it, and dnsmasq serving the
// test domains' SPF, DKIM and DMARC records, started once per process through scripts/mail-services.sh on ports of
// their own, so a developer's servers on the default ports (and their mailboxes) are never touched. They stay up
// after the run; the next run finds them and starts in no time.
//
//   TEST_SMTP_PORT            [2535]  OpenSMTPD: accepts mail for the users added here (addMailUser) and hands it to
//                                     Dovecot over LMTP; any other recipient gets 550 at RCPT TO
//   TEST_IMAP_PORT            [1153]  Dovecot, IMAP without TLS (not even offered): plain text login, IDLE
//   TEST_IMAP_STARTTLS_PORT   [1154]  the same mailboxes, IMAP offering STARTTLS with a self-signed certificate
//   TEST_IMAPS_PORT           [2003]  the same mailboxes over TLS from the first byte, the same certificate
//   TEST_LMTP_PORT            [2434]  Dovecot's LMTP (OpenSMTPD delivers there)
//   TEST_DNS_PORT             [5310]  dnsmasq, UDP and TCP: pass.test, nodkim.test, spffail.test, support.test
//                                     (scripts/mail/dns-records.conf)
// Two checkouts running their tests at the same time need different ports: the script refuses a port held by a
// server it did not start.
import { execFile, spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIL_DIR = `${ROOT}.data/mail`;
const run = promisify(execFile);

const HOST = '127.0.0.1';
const portOf = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const dnsPort = portOf('TEST_DNS_PORT', 5310);
const DKIM_SELECTOR = 'switchboard';

export const testMailServices = {
  smtp: { host: HOST, port: portOf('TEST_SMTP_PORT', 2535) },
  /** IMAP without TLS; imapflow needs `secure: false, doSTARTTLS: false` (nothing to upgrade to here anyway). */
  imap: { host: HOST, port: portOf('TEST_IMAP_PORT', 1153) },
  /** IMAP offering STARTTLS, with the self-signed certificate at `tlsCertificatePath`. */
  imapStartTls: { host: HOST, port: portOf('TEST_IMAP_STARTTLS_PORT', 1154) },
  /** IMAP over TLS from the first byte, with the same certificate. */
  imaps: { host: HOST, port: portOf('TEST_IMAPS_PORT', 2003) },
  lmtp: { host: HOST, port: portOf('TEST_LMTP_PORT', 2434) },
  dns: { host: HOST, port: dnsPort },
  /** The DNS server as `EMAIL_DNS_SERVERS` and `Resolver.setServers` take it. */
  dnsServer: `${HOST}:${dnsPort}`,
  /** The name the SMTP server greets with and writes into its `Received: ... by` clause. */
  smtpHostname: 'mail.support.test',
  /** Domains with a published DKIM key (`dkimKey`), under this selector. */
  dkimDomains: ['pass.test', 'support.test'],
  dkimSelector: DKIM_SELECTOR,
  /** The TLS instances' self-signed certificate (PEM), for a client that should trust it (`tls: { ca }`). */
  tlsCertificatePath: `${MAIL_DIR}/tls/cert.pem`,
} as const;

type Service = 'smtp' | 'imap' | 'dns';

function scriptEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MAIL_DIR,
    MAIL_SMTP_PORT: String(testMailServices.smtp.port),
    MAIL_IMAP_PORT: String(testMailServices.imap.port),
    MAIL_IMAP_STARTTLS_PORT: String(testMailServices.imapStartTls.port),
    MAIL_IMAPS_PORT: String(testMailServices.imaps.port),
    MAIL_LMTP_PORT: String(testMailServices.lmtp.port),
    MAIL_DNS_PORT: String(dnsPort),
    MAIL_HOSTNAME: testMailServices.smtpHostname,
    MAIL_DKIM_SELECTOR: DKIM_SELECTOR,
    MAIL_DKIM_DOMAINS: testMailServices.dkimDomains.join(' '),
  };
}

async function script(args: string[], input?: string): Promise<string> {
  const command = `scripts/mail-services.sh ${args[0]}`;
  if (input !== undefined) {
    // execFile has no stdin option: spawn, so a password never appears in a process list.
    return new Promise((resolve, reject) => {
      const child = spawn('bash', [`${ROOT}scripts/mail-services.sh`, ...args], { env: scriptEnv() });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(stdout) : reject(new Error(`${command} failed (exit ${code}):\n${stderr}`)),
      );
      child.stdin.end(`${input}\n`);
    });
  }
  try {
    // The first start may install Debian's packages (half a minute); later ones take well under a second.
    const { stdout } = await run('bash', [`${ROOT}scripts/mail-services.sh`, ...args], {
      env: scriptEnv(),
      timeout: 10 * 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${command} failed:\n${stderr || error}`);
  }
}

let started: Promise<void> | undefined;

/** Starts dnsmasq, Dovecot and OpenSMTPD for this process (once) and waits until each answers. */
export function ensureMailServices(): Promise<typeof testMailServices> {
  started ??= script(['start', 'dns', 'imap', 'smtp']).then(() => undefined);
  return started.then(() => testMailServices);
}

/**
 * Adds a mailbox user (the address, lower-cased, is the IMAP user name; any domain), or sets the password of an
 * existing one; the same address and password again change nothing. No restart: the SMTP server accepts mail for
 * the address (and its +tags) and Dovecot lets the user log in as soon as this resolves. A new password takes up
 * to a second (Dovecot checks its users' files once a second). Call `ensureMailServices` first.
 */
export async function addMailUser(address: string, password: string): Promise<void> {
  if (/[\r\n]/.test(password)) throw new Error('addMailUser: a password cannot contain a line break');
  await script(['add-user', address], password);
}

/** Expunges every message of every folder of a user (UIDVALIDITY stays, UIDs go on); cheap, about 50 ms. */
export async function clearMailbox(address: string): Promise<void> {
  await script(['clear-mailbox', address]);
}

/** Runs doveadm against the test Dovecot and returns its output, e.g. `doveadm('mailbox', 'status', ...)`. */
export function doveadm(...args: string[]): Promise<string> {
  return script(['doveadm', ...args]);
}

/**
 * The DKIM signing key of a domain in `dkimDomains`, published at `<selector>._domainkey.<domain>`, in the shape of
 * nodemailer's `dkim` option. The keys are generated when the DNS server first starts (`ensureMailServices`).
 */
export function dkimKey(domain: string): { domainName: string; keySelector: string; privateKey: string } {
  if (!(testMailServices.dkimDomains as readonly string[]).includes(domain)) {
    throw new Error(
      `dkimKey: no DKIM key is published for ${domain} (only ${testMailServices.dkimDomains.join(', ')})`,
    );
  }
  const file = `${MAIL_DIR}/dkim/${domain}.${DKIM_SELECTOR}.pem`;
  return { domainName: domain, keySelector: DKIM_SELECTOR, privateKey: readFileSync(file, 'utf8') };
}

/** A DNS resolver that asks only the test DNS server. */
export function testDnsResolver(): Resolver {
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([testMailServices.dnsServer]);
  return resolver;
}

/** mailauth's `resolver` option, answering from the test DNS server. */
export function mailauthResolver(): (name: string, rrtype: string) => Promise<string[][] | string[]> {
  const resolver = testDnsResolver();
  return (name, rrtype) => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
}

/**
 * Publishes TXT records beside the standard ones (for names the standard set does not have: two SPF or DMARC
 * records for one name are an error of their own) and restarts the DNS server, in well under a second. An empty
 * object removes them again. Strings longer than 255 bytes are split the way TXT records hold them.
 */
export async function setExtraDnsTxtRecords(records: Record<string, string>): Promise<void> {
  const file = `${MAIL_DIR}/dns-${dnsPort}/extra.conf`;
  const lines = Object.entries(records).map(([name, value]) => {
    if (!/^[a-z0-9._-]+$/i.test(name)) throw new Error(`setExtraDnsTxtRecords: '${name}' is not a DNS name`);
    if (/["\\\r\n]/.test(value)) throw new Error(`setExtraDnsTxtRecords: the value for ${name} has a quote or break`);
    const strings = value.match(/.{1,250}/gs) ?? [''];
    return `txt-record=${name},${strings.map((s) => `"${s}"`).join(',')}`;
  });
  if (lines.length > 0) {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `# Written by test/support/mail-services.ts\n${lines.join('\n')}\n`);
  } else if (existsSync(file)) {
    await rm(file);
  } else {
    return; // nothing published, nothing to take back
  }
  await script(['restart', 'dns']);
}

/** Stops one of the servers (the outage a test wants); its mail and users stay. */
export const stopMailService = (service: Service) => script(['stop', service]).then(() => undefined);
/** Starts it again on the same data and waits until it answers. */
export const startMailService = (service: Service) => script(['start', service]).then(() => undefined);
