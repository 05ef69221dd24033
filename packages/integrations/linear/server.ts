// The server side of Linear: the rate-limited `linear` queue for the calls to Linear, the local activities the
// link workflows run on the tickets queue, the relay's routing of ticket events to links, the API (OAuth, links,
// and Linear's signed webhooks), and what the generic integration routes must do around an installation's update
// or delete.
import { createLinearActivities } from '../../../activities/linear/index.ts';
import { linearRelaySubscriber } from '../../../activities/linear/relay-subscriber.ts';
import { linearCallbackSignIn, linearDepsOf, linearRouter } from '../../../api/routes/linear.ts';
import { linearLinksRouter } from '../../../api/routes/linear-links.ts';
import { linearWebhooksRouter } from '../../../api/routes/linear-webhooks.ts';
import type { Config } from '../../../common/config.ts';
import type { IntegrationServer } from '../../../common/integration-contract.ts';
import { prepareInstallationDelete, prepareInstallationUpdate } from '../../../domain/linear/installations.ts';
import { linearTaskQueueFor } from '../../../workflows/linear-contract.ts';

/** What a test (or an operator) may change in the Linear worker. */
export type LinearWorkerOverrides = {
  config?: Pick<Config, 'credentialKeys' | 'linear' | 'publicUrl'>;
  maxConcurrentActivities?: number;
};

export const linearServer: IntegrationServer = {
  workers(deps) {
    const overrides = (deps.overrides?.linear ?? {}) as LinearWorkerOverrides;
    const config = overrides.config ?? deps.config;
    return [
      {
        name: 'linear',
        taskQueue: linearTaskQueueFor,
        workflows: false,
        activities: createLinearActivities({ db: deps.db, config, temporalClient: deps.temporal }),
        maxConcurrentActivities: overrides.maxConcurrentActivities ?? 50,
        // The queue-wide cap spreads every installation's calls, however many workers poll.
        ...(config.linear.activitiesPerSecond > 0 ? { activitiesPerSecond: config.linear.activitiesPerSecond } : {}),
      },
    ];
  },
  taskQueues: (ticketsTaskQueue) => [{ name: linearTaskQueueFor(ticketsTaskQueue), workflows: false }],
  // Database work and signals of the link workflows run next to them, as local activities.
  ticketsQueueActivities(deps) {
    const overrides = (deps.overrides?.linear ?? {}) as LinearWorkerOverrides;
    return createLinearActivities({
      db: deps.db,
      config: overrides.config ?? deps.config,
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
