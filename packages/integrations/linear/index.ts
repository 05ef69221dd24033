// Linear, declared once: create and link issues from tickets and keep both sides in step (specification/linear.md).
import type { IntegrationDefinition } from '../../../common/integration-contract.ts';
import { linearConfigSchema, linearCredentialsSchema } from '../../../domain/integrations/linear-config.ts';
import { linearSettings } from './settings.ts';

export const linearIntegration: IntegrationDefinition = {
  type: 'linear',
  label: 'Linear',
  description: 'Create Linear issues from tickets and sync status, assignee, priority and comments both ways.',
  configSchema: linearConfigSchema,
  credentialsSchema: linearCredentialsSchema,
  dashboard: { setupComponent: 'LinearIntegrationSetup', oauthReturnParam: 'linear' },
  settings: linearSettings,
  server: async () => (await import('./server.ts')).linearServer,
};
