// The server side of outbound webhooks: the delivery workers, the relay's set-based fan-out, the API routes, and
// the generic create (which must go through createEndpoint, so every endpoint has a generated signing secret).
import { createWebhookActivities, type WebhookActivitiesOptions } from '../../../activities/webhooks/index.ts';
import { webhooksRelaySubscriber } from '../../../activities/webhooks/relay-subscriber.ts';
import { webhooksRouter } from '../../../api/routes/webhooks.ts';
import { conflict } from '../../../common/errors.ts';
import type { IntegrationServer } from '../../../common/integration-contract.ts';
import { createWebhookThroughIntegrations } from '../../../domain/webhooks/from-integration-input.ts';
import { webhooksTaskQueueFor } from '../../../workflows/webhook-endpoint-contract.ts';
import { webhookHealth } from './health.ts';
import { type WebhookSettings, webhookSettings } from './settings.ts';

/** What a test (or an operator) may change in the webhooks worker. */
export type WebhookWorkerOverrides = Partial<Pick<WebhookActivitiesOptions, 'poster' | 'leaseMarginMs' | 'listen'>> & {
  /** Changes to the module's settings (a short timeout, compressed retries). */
  settings?: Partial<WebhookSettings>;
  maxConcurrentActivities?: number;
};

export const webhookServer: IntegrationServer = {
  health: (deps, input) => webhookHealth(deps, input),
  workers(deps) {
    const overrides = (deps.overrides?.webhook ?? {}) as WebhookWorkerOverrides;
    const { maxConcurrentActivities, settings, ...activityOverrides } = overrides;
    return [
      {
        name: 'webhooks',
        taskQueue: webhooksTaskQueueFor,
        // The endpoint delivery loops run here, next to the batches they call.
        workflows: true,
        activities: createWebhookActivities({
          db: deps.db,
          credentialKeys: deps.config.credentialKeys,
          settings: { ...webhookSettings.of(deps.config), ...settings },
          temporalClient: deps.temporal,
          // Listening batches may take a quarter of the slots: the rest serve other endpoints' bursts and the
          // per-event enqueue of ticket workflows from earlier releases.
          maxListeningBatches: Math.floor((maxConcurrentActivities ?? 200) / 4),
          // The dispatcher's groups hold many endpoints' batches in one slot: as many batches as slots at once.
          maxDispatchedBatches: maxConcurrentActivities ?? 200,
          logger: deps.logger,
          ...activityOverrides,
        }),
        // Each batch is one endpoint's, mostly waiting on the network: roughly how many endpoints are served at once.
        maxConcurrentActivities: maxConcurrentActivities ?? 200,
        maxConcurrentWorkflowTasks: 100,
        // The dispatcher cancels its running groups before continuing as new: they hear of it within this. Each running
        // group heartbeats this often (up to 200 a worker: 40 calls a second to Temporal at most).
        heartbeatThrottleMs: 5_000,
      },
    ];
  },
  taskQueues: (ticketsTaskQueue) => [{ name: webhooksTaskQueueFor(ticketsTaskQueue), workflows: true }],
  relaySubscribers: ({ config }) => [
    webhooksRelaySubscriber({ payloadLimitBytes: webhookSettings.of(config).payloadLimitBytes }),
  ],
  routes: { authenticated: (deps) => webhooksRouter(deps) },
  lifecycle: {
    // One path changes an endpoint, so its URL policy, sealed secret and header set, endpoint events and the wake of
    // its delivery workflow can't be bypassed.
    beforeUpdate: async (_deps, _scope, integrationId) => {
      throw conflict(`webhook endpoints are changed with PATCH /api/webhooks/endpoints/${integrationId}`);
    },
    create: (deps, scope, input) =>
      createWebhookThroughIntegrations(
        deps.db,
        { keys: deps.config.credentialKeys, policy: webhookSettings.of(deps.config) },
        scope,
        input as Parameters<typeof createWebhookThroughIntegrations>[3],
      ),
  },
};
