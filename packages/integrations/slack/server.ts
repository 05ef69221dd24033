// The server side of Slack: the rate-limited `slack` worker (the ticket and intake workflows and their activities),
// the relay's Slack subscriber, Slack's requests (events, commands, interactivity, the install's return) and the
// authenticated routes, and what the generic integration routes must do around an installation.
import { slackClients } from '../../../activities/slack/client.ts';
import { createSlackActivities, slackRuntime } from '../../../activities/slack/index.ts';
import { slackRelaySubscriber } from '../../../activities/slack/relay-subscriber.ts';
import { slackDepsOf, slackRouter } from '../../../api/routes/slack.ts';
import { slackEventsRouter } from '../../../api/routes/slack-events.ts';
import { validationFailed } from '../../../common/errors.ts';
import type { IntegrationServer, ServiceDeps } from '../../../common/integration-contract.ts';
import type { SlackDeps } from '../../../domain/slack/deps.ts';
import { workspaceOf } from '../../../domain/slack/installations.ts';
import { resumeWorkspace } from '../../../domain/slack/resume.ts';
import { slackTaskQueueFor } from '../../../workflows/slack-contract.ts';
import { slackHealth } from './health.ts';
import { slackSettings } from './settings.ts';

function depsOf(deps: ServiceDeps): SlackDeps {
  return slackDepsOf(deps);
}

/** What a test (or an operator) may change in the Slack worker. */
export type SlackWorkerOverrides = { settings?: Partial<SlackDeps['settings']> };

export const slackServer: IntegrationServer = {
  health: (deps, input) => slackHealth(deps, input),
  workers(deps) {
    const overrides = (deps.overrides?.slack ?? {}) as SlackWorkerOverrides;
    const base = depsOf(deps);
    const runtime = slackRuntime({ ...base, settings: { ...base.settings, ...overrides.settings } });
    const { activitiesPerSecond } = slackSettings.of(deps.config);
    return [
      {
        name: 'slack',
        taskQueue: slackTaskQueueFor,
        workflows: true,
        activities: createSlackActivities(runtime),
        maxConcurrentActivities: 100,
        // The queue-wide cap keeps a burst (a reconnect's backlog) inside Slack's limits; each call also honours
        // Slack's own 429 and Retry-After.
        ...(activitiesPerSecond > 0 ? { activitiesPerSecond } : {}),
      },
    ];
  },
  taskQueues: (ticketsTaskQueue) => [{ name: slackTaskQueueFor(ticketsTaskQueue), workflows: true }],
  // What a request from Slack recorded but could not hand to its workflow (Temporal unreachable at that moment) is
  // handed over by this sweep, within about a minute and a half (domain/slack/inbound.ts).
  schedules: (ticketsTaskQueue) => [
    {
      scheduleId: `slack-inbound-sweep/${slackTaskQueueFor(ticketsTaskQueue)}`,
      everyMs: 60_000,
      workflowType: 'slackInboundSweepWorkflow',
      taskQueue: slackTaskQueueFor(ticketsTaskQueue),
      args: [],
    },
  ],
  relaySubscribers: () => [slackRelaySubscriber()],
  routes: {
    public: (deps) => slackEventsRouter(depsOf(deps)),
    authenticated: (deps) => slackRouter(deps),
  },
  lifecycle: {
    // A workspace is connected with "Add to Slack", which proves the bot token and links the workspace.
    create: async () => {
      throw validationFailed('a Slack workspace is connected with “Add to Slack” (POST /api/slack/install)', [
        { path: 'body.integrationType', message: 'use POST /api/slack/install' },
      ]);
    },
    beforeUpdate: async (deps, _scope, integrationId, changes) => {
      // The bot token comes only from "Add to Slack", which proves which workspace it belongs to.
      if (changes.credentials !== undefined)
        throw validationFailed('a Slack installation’s token is set by “Add to Slack” (POST /api/slack/install)', [
          { path: 'body.credentials', message: 'use POST /api/slack/install to reconnect the workspace' },
        ]);
      // Switched back on: tickets paused while the workspace was disconnected go on. (While an installation is
      // switched off its tickets' events are not sent to Slack at all, as for a disabled webhook endpoint.)
      return async () => {
        if (changes.isActive === true) await resumeWorkspace(depsOf(deps), integrationId);
      };
    },
    // Deleting an installation gives the bot token back to Slack first (while it still works), so Slack stops
    // sending the workspace's events and the token cannot be used again. Best effort: Slack being unreachable does
    // not keep an admin from deleting (the token then dies with the app's uninstall).
    beforeDelete: async (deps, scope, integrationId) => {
      const slack = depsOf(deps);
      const workspace = await workspaceOf(slack, scope.organizationId, integrationId).catch(() => null);
      if (workspace && !workspace.disconnectedReason)
        await slackClients(slack)
          .forWorkspace(workspace)
          .then((client) => client.auth.revoke())
          .catch((error: unknown) =>
            deps.logger.warn(
              { err: error, integrationId },
              'Slack token not revoked before the installation was deleted',
            ),
          );
      return async () => {};
    },
  },
};
