// An integration that starts failing tells the people the organisation's rules name for `integration.failed`
// (by default the admins, at most once an hour per integration: the default rule's throttle). Called by the health
// monitor on a transition into failing or disconnected, not on every sample.
import type { Database, Executor } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import type { RoutableEvent } from '../../activities/notifications/render.ts';
import { type RecipientToWake, routeEvents } from '../../activities/notifications/route.ts';
import { wakeRecipient } from '../../activities/notifications/wake.ts';
import { notifyTaskQueueFor } from '../../workflows/notify-contract.ts';
import { ensureDefaultRules } from './rules.ts';

export type IntegrationFailure = {
  organizationId: string;
  integrationId: string | null;
  /** The health item's key (a deployment's storage and scanner have no integration row): the throttle's key. */
  itemKey?: string;
  integrationType: string;
  label: string;
  reason: string;
  at: Date;
};

/**
 * Routes the failure (writes its notifications) with `db`, which may be the transaction that records the
 * transition, so the two commit together and a failure cannot be noticed without its notifications.
 */
export async function routeIntegrationFailure(
  db: Executor,
  publicUrl: string,
  input: IntegrationFailure,
): Promise<RecipientToWake[]> {
  const subject = input.itemKey ?? input.integrationId ?? input.integrationType;
  const event: RoutableEvent = {
    eventId: null,
    organizationId: input.organizationId,
    ticketId: null,
    type: 'integration.failed',
    payload: {
      integrationId: subject,
      integrationType: input.integrationType,
      label: input.label,
      reason: input.reason,
    },
    actorUserId: null,
    createdAt: input.at.toISOString(),
    // One notification per failure start: sampling the same transition again adds nothing.
    dedupeKey: `integration:${subject}:${input.at.toISOString()}`,
  };
  // An organisation that never routed a ticket event has its defaults from here too.
  await ensureDefaultRules(db, [input.organizationId]);
  return (await routeEvents(db, [event], publicUrl)).recipients;
}

/**
 * Wakes the recipients after the rows committed. Without Temporal (an API started while it was down), or if a wake
 * fails, the rows wait: the recipient's next wake takes every pending row, these included.
 */
export async function wakeIntegrationFailureRecipients(
  deps: { temporal: Client | null; ticketsTaskQueue: string },
  recipients: RecipientToWake[],
): Promise<void> {
  if (!deps.temporal) return;
  const taskQueue = notifyTaskQueueFor(deps.ticketsTaskQueue);
  for (const r of recipients) await wakeRecipient(deps.temporal, taskQueue, r.organizationId, r.recipientKey);
}

export async function notifyIntegrationFailure(
  deps: { db: Database; temporal: Client | null; ticketsTaskQueue: string; publicUrl: string },
  input: IntegrationFailure,
): Promise<void> {
  await wakeIntegrationFailureRecipients(deps, await routeIntegrationFailure(deps.db, deps.publicUrl, input));
}
