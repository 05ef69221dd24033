// The server side of email: the `email` worker (mailbox readers, the organisations' outboxes and their activities), the relay's
// email subscriber, the keeper schedule, the routes, and what an admin's create, change or delete of a mailbox
// does to its reader.

import { createKeeperActivities, wakeMailboxReader } from '../../../activities/email/keeper.ts';
import { createMailboxActivities } from '../../../activities/email/mailbox.ts';
import { createOutboxActivities } from '../../../activities/email/outbox.ts';
import { emailRelaySubscriber } from '../../../activities/email/relay-subscriber.ts';
import { emailMailboxReaderOf } from '../../../activities/email/runtime.ts';
import { createSendActivities } from '../../../activities/email/send.ts';
import { filesRuntime } from '../../../activities/files/runtime.ts';
import { emailRouter } from '../../../api/routes/email.ts';
import { emailInboundRouter } from '../../../api/routes/email-inbound.ts';
import { validationFailed } from '../../../common/errors.ts';
import type { IntegrationServer, ServiceDeps } from '../../../common/integration-contract.ts';
import { loadMailbox } from '../../../domain/email/mailboxes.ts';
import { createIntegration } from '../../../domain/integrations/create-integration.ts';
import { emailTaskQueueFor } from '../../../workflows/email-contract.ts';
import { emailHealth } from './health.ts';
import { emailSettings } from './settings.ts';

/** Tells the mailbox's reader about a change once it committed; a Temporal outage is caught by the keeper. */
function afterChange(deps: ServiceDeps, organizationId: string, integrationId: string) {
  return async () => {
    if (!deps.temporal) return;
    await wakeMailboxReader(deps.temporal, emailTaskQueueFor(deps.config.temporal.ticketsTaskQueue), {
      organizationId,
      integrationId,
    }).catch((error: unknown) =>
      deps.logger.warn({ err: error, integrationId }, 'mailbox reader not woken; the keeper starts it within minutes'),
    );
  };
}

/** A mailbox without TLS is refused when it is saved, not only when it connects, where the deployment forbids it. */
function assertTransportAllowed(deps: ServiceDeps, config: unknown): void {
  if (emailSettings.of(deps.config).allowInsecure) return;
  const { imap, smtp } = (config ?? {}) as { imap?: { security?: string } | null; smtp?: { security?: string } | null };
  const details = [
    ...(imap?.security === 'none'
      ? [{ path: 'body.config.imap.security', message: 'IMAP without TLS is not allowed here' }]
      : []),
    ...(smtp?.security === 'none'
      ? [{ path: 'body.config.smtp.security', message: 'SMTP without TLS is not allowed here' }]
      : []),
  ];
  if (details.length > 0)
    throw validationFailed('this deployment does not allow mail connections without TLS (tls or starttls)', details);
}

/**
 * A saved password goes only to the server it was saved for: pointing a mailbox at another host (or user) needs the
 * password typed again, or an admin could send the stored one to a server of their own.
 */
async function assertPasswordsFollowServers(
  deps: ServiceDeps,
  organizationId: string,
  integrationId: string,
  changes: { config?: unknown; credentials?: unknown },
): Promise<void> {
  const current = await loadMailbox(deps.db, organizationId, integrationId);
  const patch = (changes.config ?? {}) as Record<string, Record<string, unknown> | null | undefined>;
  const given = (changes.credentials ?? {}) as Record<string, unknown>;
  const details = [];
  for (const [kind, secret] of [
    ['imap', 'imapPassword'],
    ['smtp', 'smtpPassword'],
  ] as const) {
    const before = current.config[kind];
    const after = patch[kind];
    if (!before || !after) continue;
    const moved =
      (after.host !== undefined && after.host !== before.host) ||
      (after.username !== undefined && after.username !== before.username);
    if (moved && typeof given[secret] !== 'string')
      details.push({
        path: `body.credentials.${secret}`,
        message: `enter the ${kind.toUpperCase()} password again: the host or user name changes`,
      });
  }
  if (details.length > 0)
    throw validationFailed('a saved password is only sent to the server it was saved for', details);
}

export const emailServer: IntegrationServer = {
  health: (deps, input) => emailHealth(deps, input),
  workers(deps) {
    const runtime = emailMailboxReaderOf(deps);
    const send = {
      db: deps.db,
      credentialKeys: deps.config.credentialKeys,
      settings: emailSettings.of(deps.config),
      stores: filesRuntime(deps).stores,
      publicUrl: deps.config.publicUrl,
    };
    return [
      {
        name: 'email',
        taskQueue: emailTaskQueueFor,
        workflows: true,
        activities: {
          ...createMailboxActivities(runtime),
          ...createSendActivities(send),
          ...createOutboxActivities(send),
          ...createKeeperActivities({ db: deps.db, temporal: deps.temporal }),
        },
        // A mailbox reader holds its slot while it waits in IDLE: room for many mailboxes plus the senders.
        maxConcurrentActivities: 200,
        maxConcurrentWorkflowTasks: 20,
      },
    ];
  },
  taskQueues: (ticketsTaskQueue) => [{ name: emailTaskQueueFor(ticketsTaskQueue), workflows: true }],
  relaySubscribers: () => [emailRelaySubscriber()],
  schedules: (ticketsTaskQueue) => [
    {
      scheduleId: `email-mailboxes/${emailTaskQueueFor(ticketsTaskQueue)}`,
      everyMs: 5 * 60_000,
      workflowType: 'emailMailboxKeeperWorkflow',
      taskQueue: emailTaskQueueFor(ticketsTaskQueue),
      args: [],
    },
  ],
  routes: {
    public: (deps) => emailInboundRouter(deps),
    authenticated: (deps) => emailRouter(deps),
  },
  lifecycle: {
    create: async (deps, scope, input) => {
      assertTransportAllowed(deps, input.config);
      const created = await createIntegration(
        deps.db,
        deps.config.credentialKeys,
        scope,
        input as Parameters<typeof createIntegration>[3],
      );
      await afterChange(deps, scope.organizationId, created.id)();
      return created.id;
    },
    beforeUpdate: async (deps, scope, integrationId, changes) => {
      if (changes.config !== undefined) {
        assertTransportAllowed(deps, changes.config);
        await assertPasswordsFollowServers(deps, scope.organizationId, integrationId, changes);
      }
      return afterChange(deps, scope.organizationId, integrationId);
    },
    beforeDelete: async (deps, scope, integrationId) => afterChange(deps, scope.organizationId, integrationId),
  },
};
