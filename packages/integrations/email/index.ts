// Email, declared once (specification/email.md): one integration per support mailbox. Mail comes in by IMAP (a
// reader workflow per mailbox) or an inbound webhook, is authenticated (DKIM, SPF, DMARC), threaded into tickets,
// and its attachments go through the attachment pipeline; replies leave by SMTP from a workflow per organisation (its outbox).
import type { IntegrationDefinition } from '../../../common/integration-contract.ts';
import { emailConfigSchema, emailCredentialsSchema } from '../../../domain/email/config.ts';
import { emailSettings } from './settings.ts';

export const emailIntegration: IntegrationDefinition = {
  type: 'email',
  label: 'Email',
  description:
    'A support mailbox: mail to it opens and continues tickets (IMAP or an inbound webhook), replies from tickets ' +
    'go out by SMTP, threaded, with DKIM/SPF/DMARC verdicts and an optional acknowledgement.',
  configSchema: emailConfigSchema,
  credentialsSchema: emailCredentialsSchema,
  // The IMAP and SMTP passwords and the DKIM key change one at a time.
  credentialsUpdate: 'merge',
  dashboard: { setupComponent: 'EmailIntegrationSetup' },
  settings: emailSettings,
  server: async () => (await import('./server.ts')).emailServer,
};
