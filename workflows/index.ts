// The worker's workflow bundle: every workflow type, exported under the name the clients start it by
// (temporal-config workflowTypes).
export { slaWatchWorkflow } from './sla.ts';
export { ticketWorkflow } from './ticket.ts';
export { webhookEndpointWorkflow } from './webhook-endpoint.ts';
