// The worker's workflow bundle: every workflow type, exported under the name the clients start it by
// (temporal-config workflowTypes).

export { emailMailboxKeeperWorkflow } from './email-keeper.ts';
export { emailMailboxWorkflow } from './email-mailbox.ts';
export { emailOutboxWorkflow } from './email-outbox.ts';
export { emailThreadWorkflow } from './email-thread.ts';
export { filesSweepWorkflow } from './files-sweep.ts';
export { linearIssueWorkflow } from './linear-issue.ts';
export { linearSyncWorkflow } from './linear-sync.ts';
export { notifyAlertWorkflow, notifyRecipientWorkflow } from './notify.ts';
export { slaWatchWorkflow } from './sla.ts';
export { slackInboundSweepWorkflow } from './slack-inbound-sweep.ts';
export { slackIntakeWorkflow } from './slack-intake.ts';
export { slackSyncWorkflow } from './slack-sync.ts';
export { slackTicketWorkflow } from './slack-ticket.ts';
export { ticketWorkflow } from './ticket.ts';
export { uploadWorkflow } from './upload.ts';
export { webhookDispatcherWorkflow } from './webhook-dispatcher.ts';
export { webhookEndpointWorkflow } from './webhook-endpoint.ts';
