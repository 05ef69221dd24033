// The server side of notifications: the `notifications` worker (the recipient and alert workflows and their
// activities), the relay's subscriber that routes each batch in SQL, and the routes.
import { createNotificationActivities } from '../../../activities/notifications/index.ts';
import { notificationsRelaySubscriber } from '../../../activities/notifications/relay-subscriber.ts';
import { notificationAcknowledgeRouter } from '../../../api/routes/notification-acknowledge.ts';
import { notificationsRouter } from '../../../api/routes/notifications.ts';
import { validationFailed } from '../../../common/errors.ts';
import type { IntegrationServer } from '../../../common/integration-contract.ts';
import { notifyTaskQueueFor } from '../../../workflows/notify-contract.ts';

export const notificationsServer: IntegrationServer = {
  workers(deps) {
    return [
      {
        name: 'notifications',
        taskQueue: notifyTaskQueueFor,
        workflows: true,
        activities: createNotificationActivities({
          db: deps.db,
          temporal: deps.temporal,
          config: deps.config,
          logger: deps.logger,
          ticketsTaskQueue: deps.config.temporal.ticketsTaskQueue,
          publicUrl: deps.config.publicUrl,
        }),
        maxConcurrentActivities: 100,
      },
    ];
  },
  taskQueues: (ticketsTaskQueue) => [{ name: notifyTaskQueueFor(ticketsTaskQueue), workflows: true }],
  relaySubscribers: ({ config }) => [notificationsRelaySubscriber({ publicUrl: config.publicUrl })],
  routes: {
    // The email link's page: no session (the recipient clicks from their mail client), the signed token is the proof.
    public: (deps) => notificationAcknowledgeRouter(deps),
    authenticated: (deps) => notificationsRouter(deps),
  },
  lifecycle: {
    create: async () => {
      throw validationFailed('notifications are configured by their rules (POST /api/notifications/rules)', [
        { path: 'body.integrationType', message: 'use /api/notifications/rules' },
      ]);
    },
  },
};
