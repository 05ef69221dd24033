// An integration that starts failing tells the people the organisation's rules name for `integration.failed`
// (by default the admins, at most once an hour per integration: the default rule's throttle). Called by the health
// monitor on a transition into failing or disconnected, not on every sample.
import type { Database } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import type { RoutableEvent } from '../../activities/notifications/render.ts';
import { routeEvents } from '../../activities/notifications/route.ts';
import { wakeRecipient } from '../../activities/notifications/wake.ts';
import { notifyTaskQueueFor } from '../../workflows/notify-contract.ts';

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

export async function notifyIntegrationFailure(
  deps: { db: Database; temporal: Client | null; ticketsTaskQueue: string; publicUrl: string },
  input: IntegrationFailure,
): Promise<void> {
  const event: RoutableEvent = {
    eventId: null,
    organizationId: input.organizationId,
    ticketId: null,
    type: 'integration.failed',
    payload: {
      integrationId: input.itemKey ?? input.integrationId ?? input.integrationType,
      integrationType: input.integrationType,
      label: input.label,
      reason: input.reason,
    },
    actorUserId: null,
    createdAt: input.at.toISOString(),
    // One notification per failure start: sampling the same transition again adds nothing.
    dedupeKey: `integration:${input.itemKey ?? input.integrationId ?? input.integrationType}:${input.at.toISOString()}`,
  };
  const routed = await routeEvents(deps.db, [event], deps.publicUrl);
  // Without Temporal (an API started while it was down) the rows wait; the recipient's next wake takes them.
  if (!deps.temporal) return;
  const taskQueue = notifyTaskQueueFor(deps.ticketsTaskQueue);
  for (const r of routed.recipients) await wakeRecipient(deps.temporal, taskQueue, r.organizationId, r.recipientKey);
}
