// The typed client for Switchboard's HTTP API. Its request and response types are the OpenAPI document's
// (openapi-types.ts, generated from specification/openapi.yaml by `npm run openapi`), never copies; the lists a form
// offers come from the shared enumerations (common/enums.ts). Every call sends the session cookie and turns the
// API's error shape into an ApiError with a readable message.
import type { components } from './openapi-types.ts';

export { memberRoles, ticketPriorities, ticketStatuses } from '../../../common/enums.ts';

type Schemas = components['schemas'];

export type Role = Schemas['Me']['role'];
export type TicketStatus = Schemas['Ticket']['status'];
export type TicketPriority = Schemas['Ticket']['priority'];
export type TicketChannel = Schemas['Ticket']['channel'];
/** An integration type the server has a module for (GET /api/integrations/catalogue lists them). */
export type IntegrationType = string;

export type Me = Schemas['Me'];

export type Member = Schemas['Member'];

/** An unanswered invitation; `expired` ones no longer work and can only be revoked. */
export type Invitation = Schemas['Invitation'];

/** The answer to creating an invitation: the only time its token and link exist outside the invitee's hands. */
export type CreatedInvitation = Schemas['CreatedInvitation'];

export type InvitationPreview = Schemas['InvitationPreview'];

export type Ticket = Schemas['Ticket'];

export type Comment = Schemas['Comment'];

export type ActorType = Schemas['TicketEvent']['actor']['type'];

export type TicketEvent = Schemas['TicketEvent'];

export type IntegrationHealthStatus = Schemas['Integration']['health']['status'];

export type Integration = Schemas['Integration'];

export type ErrorDetail = NonNullable<Schemas['Error']['error']['details']>[number];

export type Attachment = Schemas['Attachment'];
export type AttachmentScanStatus = Attachment['scanStatus'];
export type AttachmentLimits = Schemas['AttachmentLimits'];

/** A failed API call: the HTTP status, the API's error code, and the per-field details when it sent them. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];
  readonly requestId: string | undefined;
  constructor(status: number, code: string, message: string, details: ErrorDetail[] = [], requestId?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }
}

/** A message a person can act on, whatever was thrown. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return 'Could not reach the Switchboard API. Check your connection and try again.';
  if (error instanceof Error) return error.message;
  return String(error);
}

type ErrorBody = {
  error?: { code?: string; message?: string; details?: ErrorDetail[]; requestId?: string };
  // better-auth's own routes answer { code, message } rather than the API's shape.
  code?: string;
  message?: string;
};

export function toApiError(status: number, body: unknown): ApiError {
  const parsed = (typeof body === 'object' && body !== null ? body : {}) as ErrorBody;
  const inner = parsed.error;
  const code = inner?.code ?? parsed.code ?? `http_${status}`;
  const fallback = status >= 500 ? 'The server failed to handle this request' : `Request failed (HTTP ${status})`;
  const message = inner?.message ?? parsed.message ?? fallback;
  return new ApiError(status, code, message, Array.isArray(inner?.details) ? inner.details : [], inner?.requestId);
}

let onUnauthenticated: (() => void) | null = null;

/** For requests made outside `request` (uploads through XMLHttpRequest): a 401 there is a lost session too. */
export function reportUnauthenticated(): void {
  onUnauthenticated?.();
}

/**
 * Called when an API call answers 401 (the session expired or was signed out elsewhere), so the app can
 * send the person to the login page instead of showing "authentication required" on every page.
 */
export function whenUnauthenticated(handler: (() => void) | null): void {
  onUnauthenticated = handler;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: 'include', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let parsed: unknown;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  // better-auth's own routes answer 401 for a wrong password: that is not a lost session.
  if (response.status === 401 && !path.startsWith('/api/auth/')) onUnauthenticated?.();
  if (!response.ok) throw toApiError(response.status, parsed);
  return parsed as T;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// Session

export function signIn(email: string, password: string): Promise<unknown> {
  return request('POST', '/api/auth/sign-in/email', { email, password });
}

export function signOut(): Promise<unknown> {
  return request('POST', '/api/auth/sign-out', {});
}

export function getMe(): Promise<Me> {
  return request('GET', '/api/me');
}

export function listMembers(): Promise<{ data: Member[] }> {
  return request('GET', '/api/members');
}

// Members and invitations (admins manage them; the invitee uses the token from the link's fragment)

const memberPath = (userId: string) => `/api/members/${encodeURIComponent(userId)}`;

export function changeMemberRole(userId: string, role: Role): Promise<Member> {
  return request('PATCH', memberPath(userId), { role });
}

export function removeMember(userId: string): Promise<void> {
  return request('DELETE', memberPath(userId));
}

export function listInvitations(): Promise<{ data: Invitation[] }> {
  return request('GET', '/api/invitations');
}

export function createInvitation(email: string, role: Role): Promise<CreatedInvitation> {
  return request('POST', '/api/invitations', { email, role });
}

export function revokeInvitation(id: string): Promise<void> {
  return request('DELETE', `/api/invitations/${encodeURIComponent(id)}`);
}

/** The token goes in the body: it never appears in a URL the server or a proxy would log. */
export function previewInvitation(token: string): Promise<InvitationPreview> {
  return request('POST', '/api/invitations/preview', { token });
}

/** With name and password: creates the account. Without: joins as the signed-in account. */
export function acceptInvitation(
  token: string,
  newAccount?: { name: string; password: string },
): Promise<{ organizationId: string; role: Role; newAccount: boolean }> {
  return request('POST', '/api/invitations/accept', { token, ...newAccount });
}

// Tickets

export type TicketFilters = {
  status?: TicketStatus | '';
  priority?: TicketPriority | '';
  assigneeId?: string;
  tag?: string;
  q?: string;
};

export function listTickets(
  filters: TicketFilters,
  cursor?: string | null,
  limit = 25,
): Promise<{ data: Ticket[]; nextCursor: string | null }> {
  return request('GET', `/api/tickets${query({ ...filters, limit, cursor: cursor ?? undefined })}`);
}

export type NewTicket = Schemas['NewTicket'];

export function createTicket(input: NewTicket): Promise<Ticket> {
  return request('POST', '/api/tickets', input);
}

export function getTicket(id: string): Promise<Ticket> {
  return request('GET', `/api/tickets/${encodeURIComponent(id)}`);
}

export type TicketChanges = Omit<Schemas['TicketChanges'], 'version'>;

/** Sends the version the change was based on; the API answers 409 when someone changed the ticket since. */
export function updateTicket(id: string, version: number, changes: TicketChanges): Promise<Ticket> {
  return request('PATCH', `/api/tickets/${encodeURIComponent(id)}`, { version, ...changes });
}

/** One page of a ticket's comments or events; pass nextCursor back (with the same order) for the next. */
export type TimelinePage<T> = { data: T[]; nextCursor: string | null };
export type TimelinePageQuery = { limit?: number; cursor?: string; order?: 'asc' | 'desc' };

export function listComments(ticketId: string, page: TimelinePageQuery = {}): Promise<TimelinePage<Comment>> {
  return request('GET', `/api/tickets/${encodeURIComponent(ticketId)}/comments${query(page)}`);
}

export function addComment(ticketId: string, body: string, isPublic: boolean): Promise<Comment> {
  return request('POST', `/api/tickets/${encodeURIComponent(ticketId)}/comments`, { body, isPublic });
}

export function listTicketEvents(ticketId: string, page: TimelinePageQuery = {}): Promise<TimelinePage<TicketEvent>> {
  return request('GET', `/api/tickets/${encodeURIComponent(ticketId)}/events${query(page)}`);
}

// Attachments (uploads go through uploads.ts: they need progress events, which fetch does not give)

export function listAttachments(ticketId: string): Promise<{ data: Attachment[] }> {
  return request('GET', `/api/tickets/${encodeURIComponent(ticketId)}/attachments`);
}

export function deleteAttachment(id: string): Promise<void> {
  return request('DELETE', `/api/attachments/${encodeURIComponent(id)}`);
}

export function getFileLimits(): Promise<AttachmentLimits> {
  return request('GET', '/api/files/limits');
}

/** Same-origin URLs the browser loads itself (an <img>, a download link): the session cookie goes with them. */
export const attachmentContentUrl = (id: string) => `/api/attachments/${encodeURIComponent(id)}/content`;
export const attachmentThumbnailUrl = (id: string) => `/api/attachments/${encodeURIComponent(id)}/thumbnail`;

// Integrations

export function listIntegrations(): Promise<{ data: Integration[] }> {
  return request('GET', '/api/integrations');
}

/** One integration module of the server: what to offer, and which setup component configures it. */
export type IntegrationCatalogueEntry = Schemas['IntegrationCatalogue']['data'][number];

export function listIntegrationCatalogue(): Promise<{ data: IntegrationCatalogueEntry[] }> {
  return request('GET', '/api/integrations/catalogue');
}

/**
 * The document names the product's modules and their configs; the generic form sends whatever type the catalogue
 * offers (a module it has no form of its own for), with that module's config as the server will validate it.
 */
export type NewIntegration = Omit<Schemas['NewIntegration'], 'integrationType' | 'config'> & {
  integrationType: IntegrationType;
  config: Record<string, unknown>;
};

export function createIntegration(input: NewIntegration): Promise<Integration> {
  return request('POST', '/api/integrations', input);
}

export type IntegrationChanges = Schemas['IntegrationChanges'];

export function updateIntegration(id: string, changes: IntegrationChanges): Promise<Integration> {
  return request('PATCH', `/api/integrations/${encodeURIComponent(id)}`, changes);
}

export function deleteIntegration(id: string): Promise<void> {
  return request('DELETE', `/api/integrations/${encodeURIComponent(id)}`);
}

// Outbound webhooks (each endpoint is an integration of type webhook, managed through /api/webhooks)

export type WebhookHealthStatus = Schemas['WebhookEndpoint']['health']['status'];

export type WebhookEndpoint = Schemas['WebhookEndpoint'];

export const webhookDeliveryStatuses = ['pending', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = Schemas['WebhookDelivery']['status'];

export type WebhookDelivery = Schemas['WebhookDelivery'];

export type WebhookAttempt = Schemas['WebhookAttempt'];

export type WebhookDeliveryDetail = Schemas['WebhookDeliveryDetail'];
export type WebhookEventType = Schemas['WebhookEventTypeList']['data'][number];
export type WebhookEndpointEvent = Schemas['WebhookEndpointEventList']['data'][number];

export type NewWebhookEndpoint = Schemas['NewWebhookEndpoint'];

export type WebhookEndpointChanges = Schemas['WebhookEndpointChanges'];

const endpointPath = (id: string) => `/api/webhooks/endpoints/${encodeURIComponent(id)}`;

export function listWebhookEventTypes(): Promise<{ data: WebhookEventType[] }> {
  return request('GET', '/api/webhooks/event-types');
}

export type WebhookRetrySchedule = Schemas['WebhookRetrySchedule'];

export function getWebhookRetrySchedule(): Promise<WebhookRetrySchedule> {
  return request('GET', '/api/webhooks/retry-schedule');
}

/** null goes back to the default schedule. */
export function setWebhookRetrySchedule(retryDelaysSeconds: number[] | null): Promise<WebhookRetrySchedule> {
  return request('PUT', '/api/webhooks/retry-schedule', { retryDelaysSeconds });
}

export function listWebhookEndpoints(): Promise<{ data: WebhookEndpoint[] }> {
  return request('GET', '/api/webhooks/endpoints');
}

export function getWebhookEndpoint(id: string): Promise<WebhookEndpoint> {
  return request('GET', endpointPath(id));
}

/** The answer carries the signing secret in full: the only time besides a rotation that it is shown. */
export function createWebhookEndpoint(
  input: NewWebhookEndpoint,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  return request('POST', '/api/webhooks/endpoints', input);
}

export function updateWebhookEndpoint(id: string, changes: WebhookEndpointChanges): Promise<WebhookEndpoint> {
  return request('PATCH', endpointPath(id), changes);
}

export function deleteWebhookEndpoint(id: string): Promise<void> {
  return request('DELETE', endpointPath(id));
}

export function rotateWebhookSecret(
  id: string,
  overlapHours: number,
): Promise<{ secret: string; previousSecretValidUntil: string | null }> {
  return request('POST', `${endpointPath(id)}/rotate-secret`, { overlapHours });
}

export function sendWebhookTestEvent(id: string): Promise<{ messageId: string; deliveryId: string }> {
  return request('POST', `${endpointPath(id)}/test`, {});
}

export function listWebhookDeliveries(
  endpointId: string,
  status: WebhookDeliveryStatus | '',
  cursor?: string | null,
  limit = 25,
): Promise<{ data: WebhookDelivery[]; nextCursor: string | null }> {
  return request(
    'GET',
    `${endpointPath(endpointId)}/deliveries${query({ status, limit, cursor: cursor ?? undefined })}`,
  );
}

export function getWebhookDelivery(id: string): Promise<WebhookDeliveryDetail> {
  return request('GET', `/api/webhooks/deliveries/${encodeURIComponent(id)}`);
}

export function resendWebhookDelivery(id: string): Promise<WebhookDelivery> {
  return request('POST', `/api/webhooks/deliveries/${encodeURIComponent(id)}/resend`, {});
}

export function resendFailedWebhookDeliveries(endpointId: string, since: string): Promise<{ count: number }> {
  return request('POST', `${endpointPath(endpointId)}/resend-failed`, { since });
}

export function listWebhookEndpointEvents(endpointId: string): Promise<{ data: WebhookEndpointEvent[] }> {
  return request('GET', `${endpointPath(endpointId)}/events`);
}

// Linear (the installation's settings are its integration config, changed with updateIntegration: its shape is
// the linear member of the documented POST /api/integrations body)

export type LinearConfig = Extract<Schemas['NewIntegration'], { integrationType: 'linear' }>['config'];
export type LinearActor = NonNullable<LinearConfig['actor']>;
export type LinearAutoCreateRule = LinearConfig['autoCreateRules'][number];

export type LinearWorkflowState = Schemas['LinearTeam']['states'][number];
export type LinearTeam = Schemas['LinearTeam'];

export type LinearConnectionTest = Schemas['LinearConnectionTest'];

export type LinearWebhookRegistration = Schemas['LinearWebhookRegistration'];

export type LinearConflict = Schemas['LinearConflict'];

export type LinearSyncStatus = Schemas['LinearLink']['syncStatus'];

export type LinearLink = Schemas['LinearLink'];

export type NewLinearLink = Schemas['NewLinearLink'];

/** A create or link that did not finish within the request: it goes on in its workflow. */
export type LinearLinkPending = Schemas['LinearLinkPending'];

const linearInstallationPath = (id: string) => `/api/linear/installations/${encodeURIComponent(id)}`;
const linearLinksPath = (ticketId: string) => `/api/tickets/${encodeURIComponent(ticketId)}/linear-links`;

/** Where to send the browser to approve Switchboard in Linear; with `integrationId`, reconnects that one. */
export function linearAuthorizeUrl(actor: LinearActor, integrationId?: string): Promise<{ authorizeUrl: string }> {
  return request('GET', `/api/linear/oauth/authorize${query({ actor, integrationId })}`);
}

export function createLinearApiKeyInstallation(name: string, apiKey: string): Promise<Integration> {
  return request('POST', '/api/linear/installations', { name, apiKey });
}

export function listLinearTeams(integrationId: string): Promise<{ data: LinearTeam[] }> {
  return request('GET', `${linearInstallationPath(integrationId)}/teams`);
}

export function testLinearInstallation(integrationId: string): Promise<LinearConnectionTest> {
  return request('POST', `${linearInstallationPath(integrationId)}/test`, {});
}

export function registerLinearWebhook(integrationId: string): Promise<LinearWebhookRegistration> {
  return request('POST', `${linearInstallationPath(integrationId)}/webhook`, {});
}

export function setLinearWebhookSecret(integrationId: string, secret: string): Promise<void> {
  return request('PUT', `${linearInstallationPath(integrationId)}/webhook-secret`, { secret });
}

export function disconnectLinear(integrationId: string): Promise<void> {
  return request('POST', `${linearInstallationPath(integrationId)}/disconnect`, {});
}

export function listLinearLinks(ticketId: string): Promise<{ data: LinearLink[] }> {
  return request('GET', linearLinksPath(ticketId));
}

/** 201 answers the link; 202 means it goes on in the background (the list shows it once done). */
export function createLinearLink(ticketId: string, input: NewLinearLink): Promise<LinearLink | LinearLinkPending> {
  return request('POST', linearLinksPath(ticketId), input);
}

export function deleteLinearLink(ticketId: string, linkId: string): Promise<void> {
  return request('DELETE', `${linearLinksPath(ticketId)}/${encodeURIComponent(linkId)}`);
}

export function retryLinearLink(ticketId: string, linkId: string): Promise<unknown> {
  return request('POST', `${linearLinksPath(ticketId)}/${encodeURIComponent(linkId)}/retry`, {});
}

/** Sync now: the link compares both sides at once instead of at its next reconcile. */
export function syncLinearLinkNow(ticketId: string, linkId: string): Promise<unknown> {
  return request('POST', `${linearLinksPath(ticketId)}/${encodeURIComponent(linkId)}/sync`, {});
}

// Email (one integration of type email per support mailbox; its settings are its integration config, the shape of
// the email member of the documented POST /api/integrations body)

export type EmailConfig = Extract<Schemas['NewIntegration'], { integrationType: 'email' }>['config'];
export type EmailCredentials = NonNullable<
  Extract<Schemas['NewIntegration'], { integrationType: 'email' }>['credentials']
>;
export type EmailImapSettings = NonNullable<EmailConfig['imap']>;
export type EmailSmtpSettings = NonNullable<EmailConfig['smtp']>;
export type EmailRoutingRule = EmailConfig['routing'][number];
export type MailSecurity = EmailImapSettings['security'];
export type DmarcPolicy = EmailConfig['dmarcPolicy'];

export type Email = Schemas['Email'];
export type EmailAuthResults = NonNullable<Schemas['EmailAuthResults']>;
export type EmailAttachmentRefusal = Schemas['EmailAttachmentRefusal'];
export type ComposeEmail = Schemas['ComposeEmail'];
export type EmailPreview = Schemas['EmailPreview'];
export type InboundEmail = Schemas['InboundEmail'];
export type InboundEmailStatus = InboundEmail['status'];
export type EmailReleaseResult = Schemas['EmailReleaseResult'];
export type MailConnectionTest = Schemas['MailConnectionTest'];
export type MailConnectionResult = Schemas['MailConnectionResult'];
export type EmailInboundSecret = Schemas['EmailInboundSecret'];

const ticketEmailsPath = (ticketId: string) => `/api/tickets/${encodeURIComponent(ticketId)}/emails`;
const inboundPath = (id: string) => `/api/email/inbound/${encodeURIComponent(id)}`;

/** The ticket's email thread, oldest first. */
export function listTicketEmails(ticketId: string): Promise<{ data: Email[] }> {
  return request('GET', ticketEmailsPath(ticketId));
}

/** 202 with the queued email; the same idempotencyKey answers the first send again instead of sending twice. */
export function sendTicketEmail(ticketId: string, input: ComposeEmail): Promise<Email> {
  return request('POST', ticketEmailsPath(ticketId), input);
}

export function previewTicketEmail(ticketId: string, input: ComposeEmail): Promise<EmailPreview> {
  return request('POST', `${ticketEmailsPath(ticketId)}/preview`, input);
}

/** Mail the mailboxes did not file: held for review, or refused. */
export function listInboundEmails(status: 'held' | 'refused', limit = 100): Promise<{ data: InboundEmail[] }> {
  return request('GET', `/api/email/inbound${query({ status, limit })}`);
}

export function releaseInboundEmail(id: string): Promise<EmailReleaseResult> {
  return request('POST', `${inboundPath(id)}/release`, {});
}

export function discardInboundEmail(id: string): Promise<InboundEmail> {
  return request('POST', `${inboundPath(id)}/discard`, {});
}

/** A new inbound webhook secret for a saved mailbox (the previous one stops working): shown only in this answer. */
export function generateEmailInboundSecret(integrationId: string): Promise<EmailInboundSecret> {
  return request('POST', `/api/email/integrations/${encodeURIComponent(integrationId)}/inbound-secret`, {});
}

/** Tries IMAP and SMTP settings as typed; passwords left out are the saved ones of `integrationId`. */
export function testMailConnection(input: MailConnectionTest): Promise<MailConnectionResult> {
  return request('POST', '/api/email/connection-test', input);
}

// Slack (one integration of type slack per workspace, created by "Add to Slack"; its channel rules are its integration
// config, the shape of the slack member of the documented POST /api/integrations body, changed with updateIntegration)

export type SlackConfig = Extract<Schemas['NewIntegration'], { integrationType: 'slack' }>['config'];
export type SlackRule = SlackConfig['rules'][number];
export type SlackMessageKind = SlackRule['kinds'][number];
export type SlackInstallation = Schemas['SlackInstallation'];
export type SlackChannel = Schemas['SlackChannel'];
export type SlackPreview = Schemas['SlackPreview'];
export type SlackPreviewInput = Partial<Schemas['SlackPreviewInput']>;
export type SlackPreferences = Schemas['SlackPreferences'];
export type SlackTestMessageResult = Schemas['SlackTestMessageResult'];
export type SlackConversation = Schemas['SlackConversation'];

const slackInstallationPath = (id: string) => `/api/slack/installations/${encodeURIComponent(id)}`;

export function listSlackInstallations(): Promise<{ data: SlackInstallation[] }> {
  return request('GET', '/api/slack/installations');
}

/** Where to send the browser to add Switchboard to a workspace; the answer also sets the flow's state cookie. */
export function slackInstallUrl(): Promise<{ authorizeUrl: string }> {
  return request('POST', '/api/slack/install', {});
}

export function listSlackChannels(integrationId: string): Promise<{ data: SlackChannel[] }> {
  return request('GET', `${slackInstallationPath(integrationId)}/channels`);
}

export function sendSlackTestMessage(integrationId: string, channelId: string): Promise<SlackTestMessageResult> {
  return request('POST', `${slackInstallationPath(integrationId)}/test-message`, { channelId });
}

/** The Block Kit message a rule would send, for a sample ticket or `ticketId`. */
export function previewSlackMessage(input: SlackPreviewInput): Promise<SlackPreview> {
  return request('POST', '/api/slack/preview', input);
}

export function getSlackPreferences(): Promise<SlackPreferences> {
  return request('GET', '/api/slack/me');
}

export function setSlackPreferences(preferences: SlackPreferences): Promise<SlackPreferences> {
  return request('PUT', '/api/slack/me', preferences);
}

/** The ticket's messages in Slack, one per channel. */
export function listTicketSlackConversations(ticketId: string): Promise<{ data: SlackConversation[] }> {
  return request('GET', `/api/tickets/${encodeURIComponent(ticketId)}/slack`);
}

// Integration health (issue 13)

export type IntegrationHealthItem = Schemas['IntegrationHealthItem'];

/** Every integration of the organisation at a glance, with the default store and the scanner. */
export function getIntegrationHealth(): Promise<Schemas['IntegrationHealth']> {
  return request('GET', '/api/integrations/health');
}
