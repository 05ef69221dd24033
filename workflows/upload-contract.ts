// What the attachment pipeline workflow shares with the code that starts it (the relay's files subscriber) and the
// worker that runs it: its id, input, result and task queue. No workflow runtime code here.

export const uploadWorkflowType = 'uploadWorkflow';

/** One pipeline per attachment, ever: the id is the idempotency key, so a replayed event never scans twice. */
export const uploadWorkflowId = (attachmentId: string) => `upload/${attachmentId}`;

export type UploadInput = {
  attachmentId: string;
  organizationId: string;
  ticketId: string;
  /** Raster images get a thumbnail. */
  raster: boolean;
};

/** How the file's way ended. `deleted`: someone deleted it before the scan finished. */
export type UploadOutcome = 'available' | 'infected' | 'failed' | 'deleted';

/** The files worker's queue next to a tickets queue (`tickets` → `files`), as for the webhooks queue. */
export function filesTaskQueueFor(ticketsTaskQueue: string): string {
  return ticketsTaskQueue === 'tickets' ? 'files' : `${ticketsTaskQueue}.files`;
}
