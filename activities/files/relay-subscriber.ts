// The upload pipeline as a workflow subscriber of the outbox relay: an `attachment.uploaded` event starts the file's
// pipeline `upload/<attachmentId>`, once (its id is the idempotency key; a replayed event finds it started or done).
// Starting it from the event rather than from the upload request means an upload accepted while Temporal is down is
// scanned once Temporal is back, and the request never waits on Temporal. No other event costs Temporal anything.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { RelaySend, RelaySubscriber } from '../../common/integration-contract.ts';
import type { TicketEventPayload } from '../../common/ticket-events.ts';
import { ticketSearchAttributes } from '../../temporal-config/index.ts';
import {
  filesTaskQueueFor,
  type UploadInput,
  uploadWorkflowId,
  uploadWorkflowType,
} from '../../workflows/upload-contract.ts';

export function filesRelaySubscriber(): RelaySubscriber {
  return {
    name: 'files',
    kind: 'workflow',
    async plan(events, ctx) {
      const sends: RelaySend[] = [];
      for (const event of events) {
        if (event.type !== 'attachment.uploaded') continue;
        const { attachment } = event.payload as TicketEventPayload<'attachment.uploaded'>;
        // Blocked as it was uploaded (clamd found it while it streamed in): nothing left for a pipeline to do.
        if (attachment.scanStatus !== 'pending_scan') continue;
        const input: UploadInput = {
          attachmentId: attachment.id,
          organizationId: event.organizationId,
          ticketId: event.ticketId,
          raster: attachment.mimeType.startsWith('image/') && attachment.mimeType !== 'image/svg+xml',
        };
        const workflowId = uploadWorkflowId(attachment.id);
        sends.push({
          target: workflowId,
          ticketIds: [event.ticketId],
          async send() {
            try {
              await ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
                ctx.temporal.workflow.start(uploadWorkflowType, {
                  workflowId,
                  taskQueue: filesTaskQueueFor(ctx.ticketsTaskQueue),
                  args: [input],
                  workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
                  typedSearchAttributes: ticketSearchAttributes(event.ticketId, event.organizationId, 'storage'),
                }),
              );
            } catch (err) {
              if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            }
          },
        });
      }
      return sends;
    },
  };
}
