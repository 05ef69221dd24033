// Slack, declared once: a thread per ticket per channel that stays current, replies, slash commands, buttons and
// shortcuts from Slack, DMs, installs on many workspaces (specification/slack.md).
import type { IntegrationDefinition } from '../../../common/integration-contract.ts';
import { slackConfigSchema, slackCredentialsSchema } from '../../../domain/slack/config.ts';
import { slackSettings } from './settings.ts';

export const slackIntegration: IntegrationDefinition = {
  type: 'slack',
  label: 'Slack',
  description:
    'Post tickets to channels by rule and keep each message current; reply, comment, assign and create tickets from Slack.',
  configSchema: slackConfigSchema,
  credentialsSchema: slackCredentialsSchema,
  dashboard: { setupComponent: 'SlackIntegrationSetup', oauthReturnParam: 'slack' },
  settings: slackSettings,
  server: async () => (await import('./server.ts')).slackServer,
};
