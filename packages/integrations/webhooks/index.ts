// Outbound webhooks, declared once: an endpoint is an integration of type `webhook`. The delivery engine is
// documented in specification/webhooks.md.
import type { IntegrationDefinition } from '../../../common/integration-contract.ts';
import { integrationSchemas } from '../../../domain/integrations/config-schemas.ts';
import { webhookSettings } from './settings.ts';

export const webhookIntegration: IntegrationDefinition = {
  type: 'webhook',
  label: 'Webhook',
  description: 'Signed, retried deliveries of ticket events to your own endpoints (Standard Webhooks).',
  configSchema: integrationSchemas.webhook.config,
  credentialsSchema: integrationSchemas.webhook.credentials,
  dashboard: { setupComponent: 'WebhookManager' },
  settings: webhookSettings,
  server: async () => (await import('./server.ts')).webhookServer,
};
