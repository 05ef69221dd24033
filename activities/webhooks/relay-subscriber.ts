// Webhooks as a queue-like subscriber of the outbox relay: the whole batch becomes messages and deliveries in a
// few set-based statements, then each endpoint with new work gets one wake for the batch, unless an earlier batch's
// wake has not been answered yet. No Temporal operation per event: an event that only webhooks want costs at most
// one wake per endpoint per batch, however many events it carries, and a burst on a cold endpoint about one.
import type { RelaySubscriber } from '../../common/integration-contract.ts';
import { webhooksTaskQueueFor } from '../../workflows/webhook-endpoint-contract.ts';
import { fanOutDeliveries, markWakeSent } from './enqueue.ts';
import { wakeEndpoint } from './wake.ts';

export function webhooksRelaySubscriber(options: { payloadLimitBytes: number }): RelaySubscriber {
  return {
    name: 'webhooks',
    kind: 'queue',
    async plan(events, ctx) {
      const { endpoints } = await fanOutDeliveries(ctx.db, events, options.payloadLimitBytes);
      const taskQueue = webhooksTaskQueueFor(ctx.ticketsTaskQueue);
      // A listening endpoint's batch was notified by the fan-out itself, and one already woken by an earlier batch
      // (its batch not started yet) will claim these deliveries too: no Temporal operation for either.
      return endpoints
        .filter((endpoint) => !endpoint.listening && !endpoint.wakePending)
        .map((endpoint) => ({
          target: `webhook-endpoint/${endpoint.endpointId}`,
          ticketIds: endpoint.ticketIds,
          send: async () => {
            await ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
              wakeEndpoint(ctx.temporal, endpoint.endpointId, endpoint.organizationId, { taskQueue }),
            );
            // After the signal was accepted: a wake that failed leaves no marker, and the retry wakes again.
            await markWakeSent(ctx.db, endpoint);
          },
        }));
    },
  };
}
