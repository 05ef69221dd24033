// Webhooks as a queue-like subscriber of the outbox relay: the whole batch becomes messages and deliveries in a
// few set-based statements, then the endpoints with new work are announced to the webhook dispatcher in one signal
// for the batch, leaving out those whose earlier announcement has not been answered yet. No Temporal operation per
// event, nor per endpoint: a relay batch that only webhooks want costs at most one signal, however many events and
// endpoints it carries.
import type { RelaySubscriber } from '../../common/integration-contract.ts';
import { webhookDispatcherWorkflowId, webhooksTaskQueueFor } from '../../workflows/webhook-endpoint-contract.ts';
import { fanOutDeliveries, markWakesSent } from './enqueue.ts';
import { dispatchEndpoints } from './wake.ts';

export function webhooksRelaySubscriber(options: { payloadLimitBytes: number }): RelaySubscriber {
  return {
    name: 'webhooks',
    kind: 'queue',
    integrationTypes: ['webhook'],
    async plan(events, ctx) {
      // Organisations without an endpoint (switched on or off: one off now may have been on when an event happened)
      // cost nothing more than the batch's own read.
      if ((await ctx.installedIntegrations('webhook')).length === 0) return [];
      const { endpoints } = await fanOutDeliveries(ctx.db, events, options.payloadLimitBytes);
      const taskQueue = webhooksTaskQueueFor(ctx.ticketsTaskQueue);
      // A listening endpoint's batch was notified by the fan-out itself, and one already announced by an earlier
      // batch (its batch not started yet) will claim these deliveries too: no Temporal operation for either.
      const cold = endpoints.filter((endpoint) => !endpoint.listening && !endpoint.wakePending);
      if (cold.length === 0) return [];
      return [
        {
          target: webhookDispatcherWorkflowId(taskQueue),
          ticketIds: [...new Set(cold.flatMap((endpoint) => endpoint.ticketIds))],
          send: async () => {
            await ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
              dispatchEndpoints(
                ctx.temporal,
                cold.map(({ endpointId, organizationId }) => ({ endpointId, organizationId })),
                { taskQueue },
              ),
            );
            // After the signal was accepted: an announcement that failed leaves no marker, and the retry sends again.
            await markWakesSent(ctx.db, cold);
          },
        },
      ];
    },
  };
}
