// The Linear API at the edge: inputs (strict) and views, shared by the routes, the OpenAPI document and the
// dashboard's types. Paths:
//   GET    /api/linear/oauth/authorize?actor=user|app&integrationId=   (admin) → { authorizeUrl }
//   GET    /api/linear/oauth/callback?code=&state=                     (the admin's session) → 302 to the dashboard
//   POST   /api/linear/installations                                  (admin) personal API key → Integration
//   GET    /api/linear/installations/{id}/teams                       (admin) teams with states, labels (live)
//   POST   /api/linear/installations/{id}/test                        (admin) → LinearConnectionTest
//   POST   /api/linear/installations/{id}/webhook                     (admin) → LinearWebhookRegistration
//   PUT    /api/linear/installations/{id}/webhook-secret              (admin) { secret } → 204
//   POST   /api/linear/installations/{id}/disconnect                  (admin) revoke, forget credentials → 204
//   POST   /api/linear/webhooks/{integrationId}                        (Linear; signature verified) → 200
//   GET    /api/tickets/{id}/linear-links                             (viewer) → { data: LinearLink[] }
//   POST   /api/tickets/{id}/linear-links                             (agent) NewLinearLink → 201 LinearLink | 202
//   DELETE /api/tickets/{id}/linear-links/{linkId}                    (agent) → 204
//   POST   /api/tickets/{id}/linear-links/{linkId}/retry              (agent) → 202
// Installation settings (team, mappings, rules) are the integration's config: PATCH /api/integrations/{id}.
import { ticketStatuses } from '../tickets/schemas.ts';
import { z } from '../zod.ts';

const isoDateTime = z.iso.datetime({ offset: true });

export const linearAuthorizeQuery = z
  .object({
    actor: z.enum(['user', 'app']).default('user'),
    /** Reconnect this installation (keeps its links) instead of creating a new one. */
    integrationId: z.uuid().optional(),
  })
  .strict();

export const linearAuthorizeView = z.object({ authorizeUrl: z.url() });

export const linearApiKeyInput = z
  .object({
    name: z.string().trim().min(1).max(200).default('Linear'),
    apiKey: z.string().trim().min(10, 'apiKey looks too short').max(500),
  })
  .strict();

export const linearTeamView = z.object({
  id: z.string(),
  key: z.string(),
  name: z.string(),
  states: z.array(z.object({ id: z.string(), name: z.string(), type: z.string(), position: z.number() })),
  labels: z.array(z.object({ id: z.string(), name: z.string() })),
  /**
   * The status mapping the sync uses for this team where the installation configures none (the wizard starts from
   * it and resets to it): ticket status → state id (a status with no state of its kind is absent), and every state
   * id → ticket status.
   */
  defaultMapping: z.object({
    statusToLinear: z.partialRecord(z.enum(ticketStatuses), z.string()),
    linearToStatus: z.record(z.string(), z.enum(ticketStatuses)),
  }),
});
export const linearTeamList = z.object({ data: z.array(linearTeamView) });

export const linearConnectionTest = z.object({
  ok: z.boolean(),
  viewer: z.object({ name: z.string(), email: z.string().nullable(), app: z.boolean() }).nullable(),
  organization: z.object({ name: z.string(), urlKey: z.string() }).nullable(),
  team: z.object({ id: z.string(), key: z.string(), name: z.string() }).nullable(),
  webhook: z.enum(['registered', 'secret-set', 'missing']),
  /** Why the test failed, in words an admin can act on. */
  error: z.string().nullable(),
});

export const linearWebhookRegistration = z.union([
  z.object({ registered: z.literal(true), webhookId: z.string(), url: z.url() }),
  z.object({
    registered: z.literal(false),
    /** Paste this in Linear → Settings → API → Webhooks, then PUT the signing secret Linear shows. */
    url: z.url(),
    reason: z.string(),
  }),
]);

export const linearWebhookSecretInput = z.object({ secret: z.string().trim().min(8).max(500) }).strict();

export const newLinearLinkInput = z.discriminatedUnion('action', [
  z
    .object({
      action: z.literal('create'),
      integrationId: z.uuid().optional(),
      title: z.string().trim().min(1).max(255).optional(),
      /**
       * Repeating a request with the same key returns the same issue instead of creating another. The key becomes
       * part of the workflow id, so no `/`: `auto/…` and `link/…` are the ids the system itself uses.
       */
      idempotencyKey: z
        .string()
        .min(1)
        .max(100)
        .regex(/^[A-Za-z0-9_-]+$/, 'idempotencyKey may contain only letters, digits, "-" and "_"')
        .optional(),
    })
    .strict(),
  z
    .object({
      action: z.literal('link'),
      integrationId: z.uuid().optional(),
      /** `ENG-123` or the issue's URL. */
      issue: z.string().trim().min(1).max(2000),
    })
    .strict(),
]);
export type NewLinearLinkInput = z.input<typeof newLinearLinkInput>;

export const linearConflictView = z.object({
  field: z.enum(['status', 'priority', 'assignee']),
  ticketValue: z.unknown(),
  linearValue: z.unknown(),
  winner: z.enum(['ticket', 'linear']),
  policy: z.string(),
  /** When the ticket's field changed (its event), and Linear's (the issue's updatedAt); null when not known. */
  ticketChangedAt: isoDateTime.nullable(),
  linearChangedAt: isoDateTime.nullable(),
  /** When the sync settled it. */
  at: isoDateTime,
});

export const linearLinkView = z.object({
  id: z.uuid(),
  integrationId: z.uuid(),
  issueId: z.string(),
  identifier: z.string().nullable(),
  title: z.string().nullable(),
  url: z.string().nullable(),
  state: z.object({ name: z.string(), type: z.string() }).nullable(),
  assignee: z.object({ name: z.string(), email: z.string().nullable() }).nullable(),
  syncStatus: z
    .enum(['synced', 'pending', 'rate_limited', 'failed'])
    .describe(
      'rate_limited: the link waits on Linear’s rate limit, its change goes out at nextAttemptAt (not at the ' +
        'reset of Linear’s hourly bucket); it is synced again once a call gets through',
    ),
  /** When a rate-limited link tries Linear again (a time just past means: trying now); null otherwise. */
  nextAttemptAt: isoDateTime.nullable(),
  lastSyncAt: isoDateTime.nullable(),
  lastError: z.string().nullable(),
  /** Most recent first, at most 20. */
  conflicts: z.array(linearConflictView),
  createdAt: isoDateTime,
});
export type LinearLinkView = z.infer<typeof linearLinkView>;
export const linearLinkList = z.object({ data: z.array(linearLinkView) });

/** A create or link that has not finished within the request (Linear slow or down): it goes on in the workflow. */
export const linearLinkPending = z.object({ pending: z.literal(true), workflowId: z.string() });
