// The setup form's live test: log in to IMAP (and open the mailbox, and say whether it has IDLE) and greet and
// authenticate to SMTP with the settings as typed, before they are saved, and answer in plain words. Passwords left
// out are the saved ones of the named mailbox.
import type { ImapFlow } from 'imapflow';
import { loadIntegrationCredentials } from '../../common/credentials.ts';
import type { Scope, ServiceDeps } from '../../common/integration-contract.ts';
import { onFirstUse } from '../../common/lazy-module.ts';
import { type EmailCredentials, imapSettings, smtpSettings } from '../../domain/email/config.ts';
import { loadMailbox } from '../../domain/email/mailboxes.ts';
import { z } from '../../domain/zod.ts';
import { emailSettings } from '../../packages/integrations/email/settings.ts';
import { connectTarget, describeMailError } from './connect.ts';

// The mail clients are loaded by the first test, not when the API starts (common/lazy-module.ts).
const loadImapFlow = onFirstUse(() => import('imapflow'));
const loadNodemailer = onFirstUse(() => import('nodemailer'));

export const mailConnectionTestInput = z
  .object({
    /** A saved mailbox whose passwords fill in the ones left out. */
    integrationId: z.uuid().optional(),
    imap: imapSettings.optional(),
    smtp: smtpSettings.optional(),
    imapPassword: z.string().max(1000).optional(),
    smtpPassword: z.string().max(1000).optional(),
  })
  .strict()
  .refine((input) => input.imap || input.smtp, 'give imap or smtp settings to test');
export type MailConnectionTestInput = z.infer<typeof mailConnectionTestInput>;

export async function testMailConnection(
  deps: Pick<ServiceDeps, 'db' | 'config'>,
  scope: Scope,
  input: MailConnectionTestInput,
) {
  const settings = emailSettings.of(deps.config);
  let saved: EmailCredentials | null = null;
  let savedConfig: Awaited<ReturnType<typeof loadMailbox>>['config'] | null = null;
  if (input.integrationId) {
    savedConfig = (await loadMailbox(deps.db, scope.organizationId, input.integrationId)).config;
    saved = (await loadIntegrationCredentials(
      deps.db,
      deps.config.credentialKeys,
      scope.organizationId,
      input.integrationId,
    )) as EmailCredentials | null;
  }
  // A saved password is only tried against the server and user it was saved for, never sent to a typed-in host.
  const sameServer = (kind: 'imap' | 'smtp', server: { host: string; username?: string | undefined }) =>
    savedConfig?.[kind]?.host === server.host && savedConfig?.[kind]?.username === server.username;
  const savedImapPassword = input.imap && sameServer('imap', input.imap) ? saved?.imapPassword : undefined;
  const savedSmtpPassword = input.smtp && sameServer('smtp', input.smtp) ? saved?.smtpPassword : undefined;
  const timeoutMs = Math.min(settings.timeoutMs, 15_000);
  const imap = input.imap
    ? await (async () => {
        const server = input.imap!;
        let client: ImapFlow | undefined;
        try {
          const target = await connectTarget(server, settings, 'IMAP');
          const { ImapFlow } = await loadImapFlow();
          client = new ImapFlow({
            host: target.address,
            port: server.port,
            secure: server.security === 'tls',
            ...(server.security === 'starttls' ? { doSTARTTLS: true } : {}),
            ...(server.security === 'none' ? { doSTARTTLS: false } : {}),
            servername: target.servername,
            tls: { servername: target.servername },
            auth: { user: server.username, pass: input.imapPassword ?? savedImapPassword ?? '' },
            logger: false,
            disableAutoIdle: true,
            connectionTimeout: timeoutMs,
            greetingTimeout: timeoutMs,
            socketTimeout: timeoutMs,
          });
          client.on('error', () => undefined);
          await client.connect();
          await client.mailboxOpen(server.mailbox, { readOnly: true });
          return { ok: true, error: null, idle: client.capabilities.has('IDLE') };
        } catch (error) {
          return { ok: false, error: describeMailError(error, 'IMAP', server.host).message, idle: null };
        } finally {
          await client?.logout().catch(() => client?.close());
        }
      })()
    : null;
  const smtp = input.smtp
    ? await (async () => {
        const server = input.smtp!;
        try {
          const target = await connectTarget(server, settings, 'SMTP');
          const { default: nodemailer } = await loadNodemailer();
          const transporter = nodemailer.createTransport({
            host: target.address,
            port: server.port,
            secure: server.security === 'tls',
            requireTLS: server.security === 'starttls',
            ignoreTLS: server.security === 'none',
            tls: { ...(target.servername ? { servername: target.servername } : {}) },
            connectionTimeout: timeoutMs,
            greetingTimeout: timeoutMs,
            socketTimeout: timeoutMs,
            ...(server.username
              ? { auth: { user: server.username, pass: input.smtpPassword ?? savedSmtpPassword ?? '' } }
              : {}),
          });
          try {
            await transporter.verify();
          } finally {
            transporter.close();
          }
          return { ok: true, error: null };
        } catch (error) {
          return { ok: false, error: describeMailError(error, 'SMTP', server.host).message };
        }
      })()
    : null;
  return { imap, smtp };
}
