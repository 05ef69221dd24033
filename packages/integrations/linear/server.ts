// The server side of Linear: the rate-limited `linear` queue for the calls to Linear, the local activities the
// link workflows run on the tickets queue, the relay's routing of ticket events to links, the API (OAuth, links,
// and Linear's signed webhooks), and what the generic integration routes must do around an installation's update
// or delete.
import type { LinearActivityDeps } from '../../../activities/linear/call.ts';
import { createLinearActivities } from '../../../activities/linear/index.ts';
import { linearRelaySubscriber } from '../../../activities/linear/relay-subscriber.ts';
import { linearCallbackSignIn, linearDepsOf, linearRouter } from '../../../api/routes/linear.ts';
import { linearLinksRouter } from '../../../api/routes/linear-links.ts';
import { linearWebhooksRouter } from '../../../api/routes/linear-webhooks.ts';
import type { IntegrationServer } from '../../../common/integration-contract.ts';
import type { ServiceConfig } from '../../../common/integration-settings.ts';
import { prepareInstallationDelete, prepareInstallationUpdate } from '../../../domain/linear/installations.ts';
import { linearTaskQueueFor } from '../../../workflows/linear-contract.ts';
import { linearHealth } from './health.ts';
import { linearSettings } from './settings.ts';

/** What the Linear activities take from the service's config: the keys, the public URL, the module's settings. */
export function linearActivityConfig(config: ServiceConfig): LinearActivityDeps['config'] {
  return { credentialKeys: config.credentialKeys, publicUrl: config.publicUrl, linear: linearSettings.of(config) };
}

/** What a test (or an operator) may change in the Linear worker. */
export type LinearWorkerOverrides = {
  /** Instead of linearActivityConfig(config): the Linear fake's URLs, short timeouts. */
  config?: LinearActivityDeps['config'];
  maxConcurrentActivities?: number;
};

export const linearServer: IntegrationServer = {
  health: (deps, input) => linearHealth(deps, input),
  workers(deps) {
    const overrides = (deps.overrides?.linear ?? {}) as LinearWorkerOverrides;
    const config = overrides.config ?? linearActivityConfig(deps.config);
    const { activitiesPerSecond } = linearSettings.of(deps.config);
    return [
      {
        name: 'linear',
        taskQueue: linearTaskQueueFor,
        workflows: false,
        activities: createLinearActivities({ db: deps.db, config, temporalClient: deps.temporal }),
        maxConcurrentActivities: overrides.maxConcurrentActivities ?? 50,
        // The queue-wide cap spreads every installation's calls, however many workers poll.
        ...(activitiesPerSecond > 0 ? { activitiesPerSecond } : {}),
      },
    ];
  },
  taskQueues: (ticketsTaskQueue) => [{ name: linearTaskQueueFor(ticketsTaskQueue), workflows: false }],
  // Database work and signals of the link workflows run next to them, as local activities.
  ticketsQueueActivities(deps) {
    const overrides = (deps.overrides?.linear ?? {}) as LinearWorkerOverrides;
    return createLinearActivities({
      db: deps.db,
      config: overrides.config ?? linearActivityConfig(deps.config),
      temporalClient: deps.temporal,
    });
  },
  relaySubscribers: () => [linearRelaySubscriber()],
  routes: {
    public: (deps) => linearWebhooksRouter(deps),
    authenticated: (deps) => {
      const router = linearRouter(deps);
      router.use(linearLinksRouter(deps));
      return router;
    },
    errorHandlers: [{ path: '/api/linear/oauth/callback', handler: linearCallbackSignIn }],
  },
  lifecycle: {
    // A Linear installation switched back on resumes the links that paused while it was off.
    beforeUpdate: (deps, scope, integrationId, changes) =>
      prepareInstallationUpdate(linearDepsOf(deps), scope, integrationId, changes),
    // A Linear installation gives its grant back to Linear first (while the token still works).
    beforeDelete: (deps, scope, integrationId) => prepareInstallationDelete(linearDepsOf(deps), scope, integrationId),
  },
};
