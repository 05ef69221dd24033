// Temporal settings in one place: search attributes, task queues and their limits, dev-server flags.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

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
export const taskQueueRateLimits: Partial<Record<TaskQueue, number>> = {};

export const workflowIds = {
  ticket: (ticketId: string) => `ticket/${ticketId}`,
  sla: (ticketId: string) => `sla/${ticketId}`,
};
