// Temporal settings in one place: search attributes, task queues and their limits, dev-server flags.
import { defineSearchAttributeKey, type SearchAttributePair, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes, registered on the dev server by scripts/temporal.sh and set on every workflow. */
export const searchAttributes = {
  TicketId: defineSearchAttributeKey('TicketId', SearchAttributeType.KEYWORD),
  OrganizationId: defineSearchAttributeKey('OrganizationId', SearchAttributeType.KEYWORD),
  IntegrationType: defineSearchAttributeKey('IntegrationType', SearchAttributeType.KEYWORD),
} as const;

/** One queue per integration family so a slow third party never starves another family's workers. */
export const taskQueues = {
  tickets: 'tickets',
  webhooks: 'webhooks',
  linear: 'linear',
  slack: 'slack',
  email: 'email',
  files: 'files',
} as const;
export type TaskQueue = (typeof taskQueues)[keyof typeof taskQueues];

/** Activity rate limits per task queue (activities per second across all workers), where a third party imposes one. */
export const taskQueueRateLimits: Partial<Record<TaskQueue, number>> = {
  // Linear meters each credential with a leaky bucket (about 5,000 requests an hour, refilled continuously, with
  // room for bursts), so a queue-wide cap cannot be the budget: the activities honour Linear's RATELIMITED answers
  // and their Retry-After for that. This cap keeps a backlog (a reconnect, reconciliation after an outage) from
  // flooding Linear and the database at once. Overridden by LINEAR_ACTIVITIES_PER_SECOND.
  linear: 100,
};

export const workflowIds = {
  ticket: (ticketId: string) => `ticket/${ticketId}`,
  sla: (ticketId: string) => `sla/${ticketId}`,
  /** The only writer of one ticket ↔ Linear issue link. */
  linearSync: (ticketId: string, issueId: string) => `linear-sync/${ticketId}/${issueId}`,
  /** Creating or linking an issue for a ticket; `key` is the request's idempotency key (`auto/<integrationId>` for rules). */
  linearIssue: (ticketId: string, key: string) => `linear-issue/${ticketId}/${key}`,
};

/** Workflow type names, shared by the relay (which starts ticket workflows by name) and the workflows' own exports. */
export const workflowTypes = {
  ticket: 'ticketWorkflow',
  sla: 'slaWatchWorkflow',
  linearSync: 'linearSyncWorkflow',
  linearIssue: 'linearIssueWorkflow',
} as const;

/** The value of the IntegrationType search attribute for the core workflows (integrations use their own type). */
export const coreIntegrationTypes = { ticket: 'ticket', sla: 'sla' } as const;

/** Dev-server settings for scripts/temporal.sh and the test server: SQLite tuned for a throwaway local store. */
export const devServerSqlitePragmas = ['journal_mode=WAL', 'synchronous=OFF'] as const;

/** The search attributes of every workflow about one ticket; `integrationType` says which story it tells. */
export function ticketSearchAttributes(
  ticketId: string,
  organizationId: string,
  integrationType: string,
): SearchAttributePair[] {
  return [
    { key: searchAttributes.TicketId, value: ticketId },
    { key: searchAttributes.OrganizationId, value: organizationId },
    { key: searchAttributes.IntegrationType, value: integrationType },
  ];
}
