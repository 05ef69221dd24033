// Helpers for the email tests: a customer sending over the test SMTP server and reading their mailbox over IMAP,
// a mailbox integration created through the API, and raw MIME built with nodemailer's own composer.
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { TestUser } from './support/api.ts';
import { dkimKey, testMailServices } from './support/mail-services.ts';
import { eventually } from './support/temporal.ts';

export type OutgoingMail = {
  from: string;
  to: string | string[];
  cc?: string[];
  subject: string;
  text: string;
  html?: string;
  messageId?: string;
  inReplyTo?: string;
  references?: string[];
  headers?: Record<string, string>;
  attachments?: Array<{ filename: string; content: Buffer; contentType?: string }>;
  /** Sign with the test key of the sender's domain (pass.test, support.test). */
  dkim?: boolean;
};

function messageOf(mail: OutgoingMail) {
  const domain = mail.from.split('@')[1]!;
  return {
    from: mail.from,
    to: mail.to,
    ...(mail.cc ? { cc: mail.cc } : {}),
    subject: mail.subject,
    text: mail.text,
    ...(mail.html ? { html: mail.html } : {}),
    ...(mail.messageId ? { messageId: mail.messageId } : {}),
    ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo } : {}),
    ...(mail.references ? { references: mail.references } : {}),
    ...(mail.headers ? { headers: mail.headers } : {}),
    ...(mail.attachments ? { attachments: mail.attachments } : {}),
    ...(mail.dkim ? { dkim: dkimKey(domain) } : {}),
  };
}

/** Sends as a customer through the test SMTP server (which delivers into Dovecot). Returns the Message-ID. */
export async function sendAsCustomer(mail: OutgoingMail): Promise<string> {
  const transport = nodemailer.createTransport({
    host: testMailServices.smtp.host,
    port: testMailServices.smtp.port,
    secure: false,
    ignoreTLS: true,
    name: mail.from.split('@')[1],
  });
  try {
    const info = await transport.sendMail(messageOf(mail));
    return info.messageId;
  } finally {
    transport.close();
  }
}

/** The raw bytes nodemailer would send (for the inbound webhook). */
export async function rawMessage(mail: OutgoingMail): Promise<Buffer> {
  const { dkim, ...rest } = messageOf(mail) as ReturnType<typeof messageOf> & { dkim?: unknown };
  const composed = new MailComposer(rest).compile();
  if (dkim) {
    // Signed by a one-off transport that only streams: the same signing nodemailer does on the wire.
    const signer = nodemailer.createTransport({ streamTransport: true, buffer: true, dkim: dkim as never });
    const info = await signer.sendMail(rest);
    return info.message as Buffer;
  }
  return composed.build();
}

export type ReceivedMail = { uid: number; source: Buffer; headers: string; subject: string };

/** Every message in a mailbox's INBOX, read over IMAP as the customer's client would. */
export async function readInbox(address: string, password: string): Promise<ReceivedMail[]> {
  const client = new ImapFlow({
    host: testMailServices.imap.host,
    port: testMailServices.imap.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: address, pass: password },
    logger: false,
  });
  await client.connect();
  try {
    await client.mailboxOpen('INBOX');
    const all = await client.fetchAll('1:*', { uid: true, source: true, envelope: true, headers: true });
    return all.map((m) => ({
      uid: m.uid,
      source: m.source!,
      headers: m.headers?.toString('utf8') ?? '',
      subject: m.envelope?.subject ?? '',
    }));
  } catch (error) {
    // An empty mailbox answers `1:*` with nothing.
    if (/Invalid messageset|No matching messages/i.test(String(error))) return [];
    throw error;
  } finally {
    await client.logout().catch(() => undefined);
  }
}

/** One header's value (unfolded) from a raw header block. */
export function headerOf(headers: string, name: string): string | null {
  const unfolded = headers.replace(/\r?\n[ \t]+/g, ' ');
  const line = unfolded.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? line.slice(name.length + 1).trim() : null;
}

export type MailboxSetup = {
  address: string;
  password: string;
  config?: Record<string, unknown>;
  credentials?: Record<string, unknown>;
};

/** An email integration reading the test IMAP server and sending through the test SMTP server. */
export async function createMailbox(admin: TestUser, setup: MailboxSetup): Promise<string> {
  const created = await admin.fetch('POST', '/api/integrations', {
    integrationType: 'email',
    name: `Support ${setup.address}`,
    config: {
      address: setup.address,
      fromName: 'Acme Support',
      imap: {
        host: testMailServices.imap.host,
        port: testMailServices.imap.port,
        security: 'none',
        username: setup.address,
        pollIntervalSeconds: 5,
      },
      smtp: { host: testMailServices.smtp.host, port: testMailServices.smtp.port, security: 'none' },
      ...setup.config,
    },
    credentials: { imapPassword: setup.password, ...setup.credentials },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.id;
}

/** Waits until the mailbox holds a message matching `match`. */
export async function awaitMail(
  address: string,
  password: string,
  match: (mail: ReceivedMail) => boolean,
  timeoutMs = 30_000,
): Promise<ReceivedMail> {
  return eventually(
    async () => {
      const found = (await readInbox(address, password)).find(match);
      assert.ok(found, `no matching mail in ${address} yet`);
      return found;
    },
    { timeoutMs },
  );
}
