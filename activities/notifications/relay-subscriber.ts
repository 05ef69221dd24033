// Notifications as a queue-like subscriber of the outbox relay: the batch is routed in one statement
// (route.ts), then each recipient with something new gets one wake for the batch, and each new escalating alert
// its wait. An event no rule wants costs one statement and nothing in Temporal.
import type { RelaySubscriber } from '../../common/integration-contract.ts';
import { ensureDefaultRules } from '../../domain/notifications/rules.ts';
import { notifyRecipientWorkflowId, notifyTaskQueueFor } from '../../workflows/notify-contract.ts';
import type { RoutableEvent } from './render.ts';
import { routeEvents } from './route.ts';
import { startAlert, wakeRecipient } from './wake.ts';

/** How many organisations a relay remembers as having their default rules before it starts over. */
const SEEDED_MEMORY = 10_000;

export function notificationsRelaySubscriber(options: { publicUrl: string }): RelaySubscriber {
  // The organisations this relay has seen with their default rules. A default rule is switched off, never deleted
  // (domain/notifications/rules.ts), so once seeded an organisation stays seeded, and the statement is not repeated
  // for every batch of a busy organisation.
  const seeded = new Set<string>();
  return {
    name: 'notifications',
    kind: 'queue',
    async plan(events, ctx) {
      const routable: RoutableEvent[] = events.map((e) => ({
        eventId: e.id,
        organizationId: e.organizationId,
        ticketId: e.ticketId,
        type: e.type,
        payload: e.payload as Record<string, unknown>,
        actorUserId: e.actor.type === 'user' ? e.actor.id : null,
        createdAt: e.createdAt,
        dedupeKey: `event:${e.id}`,
      }));
      // An organisation has its default rules before its first event is routed.
      const unseeded = [...new Set(events.map((e) => e.organizationId))].filter((o) => !seeded.has(o));
      if (unseeded.length > 0) {
        await ensureDefaultRules(ctx.db, unseeded);
        if (seeded.size + unseeded.length > SEEDED_MEMORY) seeded.clear();
        for (const o of unseeded) seeded.add(o);
      }
      const routed = await routeEvents(ctx.db, routable, options.publicUrl);
      const taskQueue = notifyTaskQueueFor(ctx.ticketsTaskQueue);
      return [
        ...routed.recipients.map((r) => ({
          target: notifyRecipientWorkflowId(r.organizationId, r.recipientKey),
          ticketIds: r.ticketIds,
          send: () =>
            ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
              wakeRecipient(ctx.temporal, taskQueue, r.organizationId, r.recipientKey),
            ),
        })),
        ...routed.alerts.map((a) => ({
          target: `notify-alert/${a.alertId}`,
          ticketIds: a.ticketId ? [a.ticketId] : [],
          send: () =>
            ctx.temporal.connection.withDeadline(ctx.deadline(), () => startAlert(ctx.temporal, taskQueue, a)),
        })),
      ];
    },
  };
}
