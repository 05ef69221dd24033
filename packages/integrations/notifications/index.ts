// Notifications, declared once: rules that route ticket events (and integration failures) to people and places
// through the in-app centre, email, Slack and webhooks, with digests, throttles, quiet hours and escalation
// (specification/notifications.md). It is configured by its rules (/api/notifications/rules), not by an
// integration row: creating one through the generic routes is refused.
import type { IntegrationDefinition } from '../../../common/integration-contract.ts';
import { z } from '../../../domain/zod.ts';

export const notificationsIntegration: IntegrationDefinition = {
  type: 'notifications',
  label: 'Notifications',
  description:
    'Tell the right people at the right time: rules by event, conditions and SLA state, digests, throttles, quiet hours and escalation.',
  configSchema: z.object({}).strict(),
  credentialsSchema: z.object({}).strict(),
  dashboard: { setupComponent: 'NotificationRulesManager' },
  server: async () => (await import('./server.ts')).notificationsServer,
};
