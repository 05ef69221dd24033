// The typed client for Switchboard's HTTP API (see the contract in the OpenAPI document at /openapi.json).
// Every call sends the session cookie and turns the API's error shape into an ApiError with a readable message.

export type Role = 'admin' | 'agent' | 'viewer';
export const ticketStatuses = ['open', 'pending', 'on_hold', 'solved', 'closed'] as const;
export type TicketStatus = (typeof ticketStatuses)[number];
export const ticketPriorities = ['low', 'normal', 'high', 'urgent'] as const;
export type TicketPriority = (typeof ticketPriorities)[number];
export type TicketChannel = 'web' | 'email' | 'slack' | 'api';
/** An integration type the server has a module for (GET /api/integrations/catalogue lists them). */
export type IntegrationType = string;

export type Me = {
  user: { id: string; name: string; email: string };
  organization: { id: string; name: string; slug: string };
  role: Role;
};

export type Member = { userId: string; name: string; email: string; role: Role; joinedAt: string };

/** An unanswered invitation; `expired` ones no longer work and can only be revoked. */
export type Invitation = {
  id: string;
  email: string;
  role: Role;
  status: 'pending' | 'expired';
  expiresAt: string;
  createdAt: string;
  invitedBy: { userId: string; name: string } | null;
};

/** The answer to creating an invitation: the only time its token and link exist outside the invitee's hands. */
export type CreatedInvitation = Invitation & { token: string; url: string };

export type InvitationPreview = {
  organization: { name: string };
  email: string;
  role: Role;
  expiresAt: string;
  invitedBy: string | null;
  accountExists: boolean;
};

export type Ticket = {
  id: string;
  number: number;
  subject: string;
  description: string;
  status: TicketStatus;
  priority: TicketPriority;
  requester: { id: string; email: string; name: string | null } | null;
  assigneeId: string | null;
  tags: string[];
  channel: TicketChannel;
  firstResponseDueAt: string | null;
  resolutionDueAt: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
};

export type Comment = {
  id: string;
  ticketId: string;
  body: string;
  isPublic: boolean;
  source: string;
  author: { type: 'user' | 'customer' | 'external'; id: string | null; name: string };
  createdAt: string;
};

export type ActorType = 'user' | 'api_key' | 'customer' | 'system' | 'integration';

export type TicketEvent = {
  id: number;
  type: string;
  payload: unknown;
  actor: { type: ActorType; id: string | null; name?: string };
  createdAt: string;
  dispatchedAt: string | null;
};

export type IntegrationHealthStatus = 'healthy' | 'degraded' | 'failing' | 'unknown' | 'disabled';

export type Integration = {
  id: string;
  integrationType: IntegrationType;
  name: string;
  isActive: boolean;
  config: Record<string, unknown>;
  credentialsHint: string | null;
  health: {
    status: IntegrationHealthStatus;
    /** Links waiting on the third party's rate limit (what makes it degraded). */
    rateLimitedLinks: number;
    lastSuccessAt: string | null;
    lastErrorAt: string | null;
    lastError: string | null;
    disabledReason: string | null;
  };
  createdAt: string;
  updatedAt: string;
};

export type ErrorDetail = { path: string; message: string };

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

function toApiError(status: number, body: unknown): ApiError {
  const parsed = (typeof body === 'object' && body !== null ? body : {}) as ErrorBody;
  const inner = parsed.error;
  const code = inner?.code ?? parsed.code ?? `http_${status}`;
  const fallback = status >= 500 ? 'The server failed to handle this request' : `Request failed (HTTP ${status})`;
  const message = inner?.message ?? parsed.message ?? fallback;
  return new ApiError(status, code, message, Array.isArray(inner?.details) ? inner.details : [], inner?.requestId);
}

let onUnauthenticated: (() => void) | null = null;

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

export type NewTicket = {
  subject: string;
  description?: string;
  priority?: TicketPriority;
  status?: TicketStatus;
  requesterEmail?: string;
  requesterName?: string;
  assigneeId?: string;
  tags?: string[];
  channel?: TicketChannel;
};

export function createTicket(input: NewTicket): Promise<Ticket> {
  return request('POST', '/api/tickets', input);
}

export function getTicket(id: string): Promise<Ticket> {
  return request('GET', `/api/tickets/${encodeURIComponent(id)}`);
}

export type TicketChanges = {
  status?: TicketStatus;
  priority?: TicketPriority;
  assigneeId?: string | null;
  tags?: string[];
  subject?: string;
};

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

// Integrations

export function listIntegrations(): Promise<{ data: Integration[] }> {
  return request('GET', '/api/integrations');
}

/** One integration module of the server: what to offer, and which setup component configures it. */
export type IntegrationCatalogueEntry = {
  type: IntegrationType;
  label: string;
  description: string;
  setupComponent: string;
  oauthReturnParam: string | null;
};

export function listIntegrationCatalogue(): Promise<{ data: IntegrationCatalogueEntry[] }> {
  return request('GET', '/api/integrations/catalogue');
}

export type NewIntegration = {
  integrationType: IntegrationType;
  name: string;
  isActive?: boolean;
  config: Record<string, unknown>;
  credentials?: Record<string, unknown>;
};

export function createIntegration(input: NewIntegration): Promise<Integration> {
  return request('POST', '/api/integrations', input);
}

export type IntegrationChanges = {
  name?: string;
  isActive?: boolean;
  config?: Record<string, unknown>;
  credentials?: Record<string, unknown>;
};

export function updateIntegration(id: string, changes: IntegrationChanges): Promise<Integration> {
  return request('PATCH', `/api/integrations/${encodeURIComponent(id)}`, changes);
}

export function deleteIntegration(id: string): Promise<void> {
  return request('DELETE', `/api/integrations/${encodeURIComponent(id)}`);
}

// Outbound webhooks (each endpoint is an integration of type webhook, managed through /api/webhooks)

export type WebhookHealthStatus = 'healthy' | 'failing' | 'unknown' | 'disabled';

export type WebhookEndpoint = {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
  rateLimitPerSecond: number;
  maxConcurrency: number;
  excludeInternalNotes: boolean;
  headerNames: string[];
  secretHint: string | null;
  health: {
    status: WebhookHealthStatus;
    successRate24h: number | null;
    lastAttemptAt: string | null;
    lastSuccessAt: string | null;
    lastError: string | null;
  };
  createdAt: string;
  updatedAt: string;
};

export const webhookDeliveryStatuses = ['pending', 'succeeded', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof webhookDeliveryStatuses)[number];

export type WebhookDelivery = {
  id: string;
  endpointId: string;
  messageId: string;
  eventType: string;
  ticketId: string | null;
  status: WebhookDeliveryStatus;
  attemptCount: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  createdAt: string;
};

export type WebhookAttempt = {
  id: number | string;
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  responseExcerpt: string | null;
  errorClass: string | null;
  outcome: string;
};

export type WebhookDeliveryDetail = WebhookDelivery & { attempts: WebhookAttempt[]; payload: unknown };
export type WebhookEventType = { type: string; description: string; schema: unknown };
export type WebhookEndpointEvent = { id: number | string; type: string; payload: unknown; createdAt: string };

export type NewWebhookEndpoint = {
  url: string;
  description?: string;
  eventTypes: string[];
  enabled?: boolean;
  rateLimitPerSecond?: number;
  maxConcurrency?: number;
  excludeInternalNotes?: boolean;
};

export type WebhookEndpointChanges = Partial<NewWebhookEndpoint>;

const endpointPath = (id: string) => `/api/webhooks/endpoints/${encodeURIComponent(id)}`;

export function listWebhookEventTypes(): Promise<{ data: WebhookEventType[] }> {
  return request('GET', '/api/webhooks/event-types');
}

export type WebhookRetrySchedule = {
  retryDelaysSeconds: number[];
  isDefault: boolean;
  defaultRetryDelaysSeconds: number[];
};

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

// Linear (the installation's settings are its integration config, changed with updateIntegration; the shapes
// mirror domain/linear/schemas.ts and domain/integrations/linear-config.ts)

export type LinearActor = 'user' | 'app';
export type LinearAutoCreateRule = { tags?: string[]; priorities?: TicketPriority[] };

export type LinearConfig = {
  teamId?: string;
  /** Teams besides teamId whose issues agents may link. */
  additionalTeamIds: string[];
  autoCreateIssues: boolean;
  autoCreateRules: LinearAutoCreateRule[];
  statusToLinear: Partial<Record<TicketStatus, string>>;
  linearToStatus: Record<string, TicketStatus>;
  syncPriority: boolean;
  commentsToLinear: 'public' | 'all' | 'none';
  commentsFromLinear: 'internal' | 'public' | 'none';
  conflictPolicy: 'latest' | 'ticket' | 'linear';
  reconcileIntervalMinutes: number;
  labelIds: string[];
  /** Set by the server; sent back unchanged when the wizard saves. */
  workspace?: { id: string; name: string; urlKey: string };
  actor?: LinearActor;
  viewerId?: string;
  webhookId?: string;
};

export type LinearWorkflowState = { id: string; name: string; type: string; position: number };
export type LinearTeam = {
  id: string;
  key: string;
  name: string;
  states: LinearWorkflowState[];
  labels: { id: string; name: string }[];
  /** What the sync does where the installation maps nothing: the wizard starts from it and resets to it. */
  defaultMapping: {
    statusToLinear: Partial<Record<TicketStatus, string>>;
    linearToStatus: Record<string, TicketStatus>;
  };
};

export type LinearConnectionTest = {
  ok: boolean;
  viewer: { name: string; email: string | null; app: boolean } | null;
  organization: { name: string; urlKey: string } | null;
  team: { id: string; key: string; name: string } | null;
  webhook: 'registered' | 'secret-set' | 'missing';
  error: string | null;
};

export type LinearWebhookRegistration =
  | { registered: true; webhookId: string; url: string }
  | { registered: false; url: string; reason: string };

export type LinearConflict = {
  field: 'status' | 'priority' | 'assignee';
  ticketValue: unknown;
  linearValue: unknown;
  winner: 'ticket' | 'linear';
  policy: string;
  /** When each side changed the field (null: not known). */
  ticketChangedAt: string | null;
  linearChangedAt: string | null;
  at: string;
};

export type LinearSyncStatus = 'synced' | 'pending' | 'rate_limited' | 'failed';

export type LinearLink = {
  id: string;
  integrationId: string;
  issueId: string;
  identifier: string | null;
  title: string | null;
  url: string | null;
  state: { name: string; type: string } | null;
  assignee: { name: string; email: string | null } | null;
  syncStatus: LinearSyncStatus;
  /** When a rate-limited link tries Linear again. */
  nextAttemptAt: string | null;
  lastSyncAt: string | null;
  lastError: string | null;
  /** Most recent first. */
  conflicts: LinearConflict[];
  createdAt: string;
};

export type NewLinearLink =
  | { action: 'create'; integrationId?: string; title?: string; idempotencyKey?: string }
  | { action: 'link'; integrationId?: string; issue: string };

/** A create or link that did not finish within the request: it goes on in its workflow. */
export type LinearLinkPending = { pending: true; workflowId: string };

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
