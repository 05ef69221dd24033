// The integrations: one line each. The worker, the API (and its generic /api/integrations routes), the outbox
// relay, health reporting, the dashboard's list and the test harness loop over this list; nothing else names an
// integration. What a new one brings is the IntegrationDefinition contract (common/integration-contract.ts);
// specification/integrations.md lists the files it touches.
import { loadConfig } from '../../common/config.ts';
import type { IntegrationDefinition, IntegrationServer } from '../../common/integration-contract.ts';
import { composeServiceConfig, type ServiceConfig } from '../../common/integration-settings.ts';
import { emailIntegration } from './email/index.ts';
import { filesIntegration } from './files/index.ts';
import { linearIntegration } from './linear/index.ts';
import { notificationsIntegration } from './notifications/index.ts';
import { slackIntegration } from './slack/index.ts';
import { webhookIntegration } from './webhooks/index.ts';

export const integrations: readonly IntegrationDefinition[] = [
  webhookIntegration,
  linearIntegration,
  filesIntegration,
  emailIntegration,
  slackIntegration,
  notificationsIntegration,
];

/** Every integration's server part, loaded (in list order). */
export async function loadIntegrationServers(
  list: readonly IntegrationDefinition[] = integrations,
): Promise<Array<{ definition: IntegrationDefinition; server: IntegrationServer }>> {
  return Promise.all(list.map(async (definition) => ({ definition, server: await definition.server() })));
}

/**
 * The config of a process that serves integrations (API, worker and relay, the test harness): the core's settings
 * and each listed module's own, all read and checked now, so that a bad value stops the process at start with a
 * message naming the variable.
 */
export function loadServiceConfig(
  env: NodeJS.ProcessEnv = process.env,
  list: readonly IntegrationDefinition[] = integrations,
): ServiceConfig {
  return composeServiceConfig(env, loadConfig(env), list);
}
