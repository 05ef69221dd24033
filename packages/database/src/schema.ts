// Domain schema: the ticket core and the integration tables of the phase-4 requirements.
// Every table carries organization_id so that each query can be scoped without a join.
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { actorTypes, commentSources, ticketChannels, ticketPriorities, ticketStatuses } from '../../../common/enums.ts';
import { organization, user } from './auth-schema.ts';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
const organizationId = () =>
  text('organization_id')
    .notNull()
    .references(() => organization.id, { onDelete: 'cascade' });

export const ticketStatus = pgEnum('ticket_status', ticketStatuses);
export const ticketPriority = pgEnum('ticket_priority', ticketPriorities);
export const ticketChannel = pgEnum('ticket_channel', ticketChannels);
export const commentSource = pgEnum('comment_source', commentSources);
export const actorType = pgEnum('actor_type', actorTypes);
export const syncStatus = pgEnum('sync_status', ['synced', 'failed', 'pending']);
export const emailDirection = pgEnum('email_direction', ['inbound', 'outbound']);
/**
 * An attachment's way through the upload pipeline (issue 10): pending_scan until clamd has read it (nothing serves
 * it), then clean (available), infected (deleted, the signature kept) or failed (a permanent error, the reason kept).
 */
export const scanStatus = pgEnum('scan_status', ['pending_scan', 'clean', 'infected', 'failed']);

/** Per-organisation counters (ticket numbers), bumped with UPDATE … RETURNING inside the create transaction. */
export const organizationCounters = pgTable('organization_counters', {
  organizationId: text('organization_id')
    .primaryKey()
    .references(() => organization.id, { onDelete: 'cascade' }),
  lastTicketNumber: integer('last_ticket_number').notNull().default(0),
});

/** Requesters: the people who ask for help, identified by email within an organisation. */
export const customers = pgTable(
  'customers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    email: text('email').notNull(),
    name: text('name'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('customers_org_email_uq').on(t.organizationId, sql`lower(${t.email})`)],
);

export const supportRequests = pgTable(
  'support_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    number: integer('number').notNull(),
    subject: text('subject').notNull(),
    description: text('description').notNull().default(''),
    status: ticketStatus('status').notNull().default('open'),
    priority: ticketPriority('priority').notNull().default('normal'),
    requesterId: uuid('requester_id').references(() => customers.id, { onDelete: 'set null' }),
    assigneeId: text('assignee_id').references(() => user.id, { onDelete: 'set null' }),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    channel: ticketChannel('channel').notNull().default('web'),
    firstResponseDueAt: timestamp('first_response_due_at', { withTimezone: true }),
    resolutionDueAt: timestamp('resolution_due_at', { withTimezone: true }),
    firstRespondedAt: timestamp('first_responded_at', { withTimezone: true }),
    solvedAt: timestamp('solved_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** Optimistic concurrency: every update must name the version it read. */
    version: integer('version').notNull().default(1),
  },
  (t) => [
    uniqueIndex('support_requests_org_number_uq').on(t.organizationId, t.number),
    index('support_requests_org_created_idx').on(t.organizationId, t.createdAt, t.id),
    index('support_requests_org_status_idx').on(t.organizationId, t.status),
    index('support_requests_org_assignee_idx').on(t.organizationId, t.assigneeId),
    index('support_requests_tags_idx').using('gin', t.tags),
  ],
);

export const ticketComments = pgTable(
  'ticket_comments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    supportRequestId: uuid('support_request_id')
      .notNull()
      .references(() => supportRequests.id, { onDelete: 'cascade' }),
    authorUserId: text('author_user_id').references(() => user.id, { onDelete: 'set null' }),
    authorCustomerId: uuid('author_customer_id').references(() => customers.id, { onDelete: 'set null' }),
    /** Shown when the author is neither a user nor a customer, e.g. "Ada via Linear". */
    authorDisplayName: text('author_display_name'),
    body: text('body').notNull(),
    isPublic: boolean('is_public').notNull().default(true),
    source: commentSource('source').notNull().default('web'),
    /** Id of the counterpart in the system the comment came from or was mirrored to. */
    externalId: text('external_id'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('ticket_comments_ticket_idx').on(t.supportRequestId, t.createdAt),
    uniqueIndex('ticket_comments_external_uq')
      .on(t.supportRequestId, t.source, t.externalId)
      .where(sql`${t.externalId} is not null`),
  ],
);

/**
 * The transactional outbox and the ticket timeline in one append-only table.
 * A row is written in the same transaction as the change it describes; the relay sets
 * dispatched_at once Temporal has accepted it. Ids are allocated while the ticket row is
 * locked, so within one ticket id order is commit order.
 */
export const ticketEvents = pgTable(
  'ticket_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    organizationId: organizationId(),
    supportRequestId: uuid('support_request_id')
      .notNull()
      .references(() => supportRequests.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull().default({}),
    actorType: actorType('actor_type').notNull(),
    actorId: text('actor_id'),
    createdAt: createdAt(),
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true }),
  },
  (t) => [
    index('ticket_events_ticket_idx').on(t.supportRequestId, t.id),
    index('ticket_events_undispatched_idx').on(t.id).where(sql`${t.dispatchedAt} is null`),
  ],
);

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    organizationId: organizationId(),
    actorType: actorType('actor_type').notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    metadata: jsonb('metadata').notNull().default({}),
    requestId: text('request_id'),
    createdAt: createdAt(),
  },
  (t) => [
    index('audit_log_org_created_idx').on(t.organizationId, t.createdAt),
    // One entity's history (e.g. whether someone unlinked a ticket from Linear, asked on every ticket event).
    index('audit_log_entity_idx').on(t.organizationId, t.entityType, t.entityId),
  ],
);

/** Encrypted envelope stored in integration_configs.credentials (see specification/credentials.md). */
export type CredentialEnvelope = {
  v: 1;
  kid: string;
  wrappedKey: string;
  iv: string;
  tag: string;
  ciphertext: string;
};

export const integrationConfigs = pgTable(
  'integration_configs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    /**
     * The integration module's type (packages/integrations). Text, not an enum: a new integration is its module and
     * a line in the list, and the API accepts only types that have a module.
     */
    integrationType: text('integration_type').notNull(),
    name: text('name').notNull(),
    isActive: boolean('is_active').notNull().default(true),
    config: jsonb('config').notNull().default({}),
    credentials: jsonb('credentials').$type<CredentialEnvelope | null>(),
    /** A masked hint of the credentials (e.g. "lin_…3f9a"); the secret itself never leaves the server. */
    credentialsHint: text('credentials_hint'),
    lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
    lastError: text('last_error'),
    disabledReason: text('disabled_reason'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('integration_configs_org_type_idx').on(t.organizationId, t.integrationType)],
);

/**
 * What each integration was, and since when: a row per insert and per change of is_active or config, written by a
 * trigger (migration 0006) so that no path that changes an integration can skip it. Fan-out reads it to decide by
 * the state at the event's time, not at the relay's: an endpoint gets exactly the events that happened while it
 * existed, was enabled and was subscribed to their type, however late the relay gets to them.
 */
export const integrationConfigHistory = pgTable(
  'integration_config_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    integrationConfigId: uuid('integration_config_id')
      .notNull()
      .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    organizationId: organizationId(),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull(),
    isActive: boolean('is_active').notNull(),
    config: jsonb('config').notNull(),
  },
  (t) => [index('integration_config_history_config_idx').on(t.integrationConfigId, t.validFrom)],
);

export const externalSyncRecords = pgTable(
  'external_sync_records',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    supportRequestId: uuid('support_request_id')
      .notNull()
      .references(() => supportRequests.id, { onDelete: 'cascade' }),
    integrationConfigId: uuid('integration_config_id')
      .notNull()
      .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    externalId: text('external_id').notNull(),
    /** The human-readable key (Linear's `ENG-123`), for display and lookup by identifier. */
    externalKey: text('external_key'),
    externalUrl: text('external_url'),
    syncStatus: syncStatus('sync_status').notNull().default('pending'),
    lastSyncAt: timestamp('last_sync_at', { withTimezone: true }),
    lastError: text('last_error'),
    /**
     * Set while the link waits on the third party's rate limit: when its next attempt is due. Cleared by the next
     * call that gets through. Shown as the `rate_limited` sync state; any set makes the integration `degraded`.
     */
    rateLimitedUntil: timestamp('rate_limited_until', { withTimezone: true }),
    /** Integration-specific sync state (last synced field values, comment map, conflicts). */
    state: jsonb('state').notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('external_sync_records_link_uq').on(t.supportRequestId, t.integrationConfigId, t.externalId),
    index('external_sync_records_external_idx').on(t.integrationConfigId, t.externalId),
    // Health asks whether any link of an installation waits on a rate limit: only those rows are indexed.
    index('external_sync_records_rate_limited_idx')
      .on(t.integrationConfigId)
      .where(sql`${t.rateLimitedUntil} is not null`),
  ],
);

/** The sealed data key of one stored file (common/files/sealed-stream.ts); the object itself has no header. */
export type FileKeyEnvelope = { v: 1; kid: string; wrappedKey: string; noncePrefix: string; segmentSize: number };

/**
 * One file attached to a ticket, from any source (upload, email, Slack). The row is written only once the encrypted
 * object is in storage, so no row claims a file that is not there; the pipeline workflow `upload/<id>` takes it from
 * pending_scan to clean, infected or failed. Quarantine is a state, not a place: nothing is served before clean.
 */
export const ticketAttachments = pgTable(
  'ticket_attachments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    supportRequestId: uuid('support_request_id')
      .notNull()
      .references(() => supportRequests.id, { onDelete: 'cascade' }),
    /** Where it came from: web, api, email, slack (domain/files/schemas.ts). */
    source: text('source').notNull().default('web'),
    /** The name as shown (sanitised, the original's letters kept); storageName is its ASCII form for headers. */
    fileName: text('file_name').notNull(),
    storageName: text('storage_name').notNull().default('file'),
    fileSize: bigint('file_size', { mode: 'number' }).notNull(),
    /** Decided from the bytes against the allow-list, never from the name or the client's Content-Type. */
    mimeType: text('mime_type').notNull(),
    raster: boolean('raster').notNull().default(false),
    storageKey: text('storage_key').notNull().unique(),
    /**
     * The organisation's storage integration that holds it; null: the deployment's default store. The integration
     * cannot be deleted while live files are in it (the key restricts, its module says why); the rows of files that
     * are gone let go of it first.
     */
    storageIntegrationId: uuid('storage_integration_id').references(() => integrationConfigs.id, {
      onDelete: 'restrict',
    }),
    keyEnvelope: jsonb('key_envelope').$type<FileKeyEnvelope>(),
    checksumSha256: text('checksum_sha256'),
    scanStatus: scanStatus('scan_status').notNull().default('pending_scan'),
    /** The virus's name, for infected files. */
    scanSignature: text('scan_signature'),
    /** Why a file failed for good, in words an agent can act on. */
    failureReason: text('failure_reason'),
    /** Why the pipeline waits (clamd unreachable, storage down) and until when it tries again; null when not. */
    waitingReason: text('waiting_reason'),
    waitingUntil: timestamp('waiting_until', { withTimezone: true }),
    thumbnailKey: text('thumbnail_key'),
    thumbnailEnvelope: jsonb('thumbnail_envelope').$type<FileKeyEnvelope>(),
    thumbnailSize: bigint('thumbnail_size', { mode: 'number' }),
    thumbnailMime: text('thumbnail_mime'),
    /** The resumable (tus) upload it came from: a finish that runs twice attaches the file once. */
    resumableUploadId: text('resumable_upload_id').unique(),
    uploadedBy: text('uploaded_by').references(() => user.id, { onDelete: 'set null' }),
    uploadedByActorType: actorType('uploaded_by_actor_type').notNull().default('user'),
    uploadedByActorId: text('uploaded_by_actor_id'),
    uploadedAt: timestamp('uploaded_at', { withTimezone: true }).notNull().defaultNow(),
    scannedAt: timestamp('scanned_at', { withTimezone: true }),
    availableAt: timestamp('available_at', { withTimezone: true }),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    index('ticket_attachments_ticket_idx').on(t.supportRequestId),
    // Quotas sum an organisation's stored bytes at every upload.
    index('ticket_attachments_org_idx').on(t.organizationId),
    check('ticket_attachments_size_nonnegative', sql`${t.fileSize} >= 0`),
  ],
);

export const emailStatus = pgEnum('email_status', ['received', 'queued', 'sent', 'failed']);
export const emailInboundStatus = pgEnum('email_inbound_status', [
  'ingested',
  'held',
  'refused',
  'released',
  'discarded',
]);

/** Authentication verdicts of an inbound email (mailauth), as the thread shows them. */
export type EmailAuthResults = {
  dkim: 'pass' | 'fail' | 'none' | 'neutral' | 'temperror' | 'permerror' | 'policy';
  spf: 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror';
  dmarc: 'pass' | 'fail' | 'none' | 'temperror' | 'permerror';
  arc: 'pass' | 'fail' | 'none' | null;
  /** The DMARC policy the sender's domain publishes (none, quarantine, reject), when it has one. */
  dmarcPolicy: string | null;
  /** The domains behind the verdicts: the DKIM signing domain(s) and the SPF domain. */
  dkimDomains: string[];
  spfDomain: string | null;
};

/** An attachment of an email that was not stored, and why (shown in the thread). */
export type EmailAttachmentRefusal = { fileName: string; size: number | null; reason: string };

export const ticketEmails = pgTable(
  'ticket_emails',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    supportRequestId: uuid('support_request_id')
      .notNull()
      .references(() => supportRequests.id, { onDelete: 'cascade' }),
    /** The mailbox (integration of type `email`) it came through or leaves from. */
    integrationId: uuid('integration_id').references(() => integrationConfigs.id, { onDelete: 'set null' }),
    messageId: text('message_id').notNull(),
    direction: emailDirection('direction').notNull(),
    /** received (inbound); queued, sent or failed (outbound). */
    status: emailStatus('status').notNull().default('received'),
    /** message (a customer's mail), reply (an agent's), auto_reply (the acknowledgement). */
    kind: text('kind').notNull().default('message'),
    fromAddress: text('from_address').notNull(),
    toAddresses: text('to_addresses').array().notNull().default(sql`'{}'::text[]`),
    ccAddresses: text('cc_addresses').array().notNull().default(sql`'{}'::text[]`),
    subject: text('subject').notNull().default(''),
    /** The full original text. */
    content: text('content').notNull().default(''),
    /** The HTML part, sanitised for display (common/email/html.ts). */
    htmlContent: text('html_content'),
    /** The text without quoted replies and signature, for the ticket view. */
    displayText: text('display_text'),
    inReplyTo: text('in_reply_to'),
    references: text('references').array().notNull().default(sql`'{}'::text[]`),
    /** Outlook's conversation header, carried into replies. */
    threadIndex: text('thread_index'),
    authResults: jsonb('auth_results').$type<EmailAuthResults>(),
    /** Failed DMARC and the mailbox's policy is `flag`: shown with a warning. */
    authFlagged: boolean('auth_flagged').notNull().default(false),
    /** Sent with Auto-Submitted, list or bulk headers: never auto-replied to. */
    automated: boolean('automated').notNull().default(false),
    commentId: uuid('comment_id').references(() => ticketComments.id, { onDelete: 'set null' }),
    attachmentIds: uuid('attachment_ids').array().notNull().default(sql`'{}'::uuid[]`),
    attachmentRefusals: jsonb('attachment_refusals').$type<EmailAttachmentRefusal[]>().notNull().default([]),
    /**
     * Why an outbound send failed for good (the SMTP server's words), or, while still queued, why its last attempt
     * did not go through (`retrying: ...`).
     */
    failureReason: text('failure_reason'),
    attempts: integer('attempts').notNull().default(0),
    /**
     * A queued row whose last attempt failed for a while (4xx, server unreachable, mailbox switched off): not tried
     * again before this time, and its ticket's later rows wait behind it (they leave in order). Null: due now.
     */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    sentByUserId: text('sent_by_user_id').references(() => user.id, { onDelete: 'set null' }),
    /** The reply-token address the customer answers to. */
    replyToAddress: text('reply_to_address'),
    /** What an outbound row was made from (`comment:<id>`, `compose:<key>`, `ack:<inbound id>`): made once. */
    sourceKey: text('source_key'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('ticket_emails_org_message_uq').on(t.organizationId, t.messageId),
    uniqueIndex('ticket_emails_source_key_uq').on(t.organizationId, t.sourceKey),
    index('ticket_emails_ticket_idx').on(t.supportRequestId, t.sentAt),
    // The outbox's queue: an organisation's mail still to send, oldest first (workflows/email-outbox.ts).
    index('ticket_emails_queued_idx').on(t.organizationId, t.createdAt).where(sql`${t.status} = 'queued'`),
  ],
);

/**
 * A mailbox's ledger of inbound mail: one row per integration and Message-ID, whatever became of it. Its unique key
 * makes ingest idempotent across IMAP retries, UIDVALIDITY resyncs and a provider posting a message twice.
 */
export const emailInbound = pgTable(
  'email_inbound',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    integrationId: uuid('integration_id')
      .notNull()
      .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    messageId: text('message_id').notNull(),
    /** imap or webhook. */
    via: text('via').notNull(),
    status: emailInboundStatus('status').notNull(),
    /** Why it was refused or held, in words an admin can act on. */
    reason: text('reason'),
    fromAddress: text('from_address'),
    subject: text('subject'),
    sizeBytes: integer('size_bytes'),
    authResults: jsonb('auth_results').$type<EmailAuthResults>(),
    ticketId: uuid('ticket_id').references(() => supportRequests.id, { onDelete: 'set null' }),
    emailId: uuid('email_id').references(() => ticketEmails.id, { onDelete: 'set null' }),
    /** A held message's raw MIME, sealed (it is released later through the same ingest); null once decided. */
    heldMessage: jsonb('held_message').$type<CredentialEnvelope>(),
    decidedBy: text('decided_by').references(() => user.id, { onDelete: 'set null' }),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('email_inbound_message_uq').on(t.integrationId, t.messageId),
    index('email_inbound_org_status_idx').on(t.organizationId, t.status, t.receivedAt),
  ],
);

/** A mailbox's generated secrets: the reply-token key (sealed) and the inbound webhook secret (its SHA-256 only). */
export const emailMailboxes = pgTable('email_mailboxes', {
  integrationId: uuid('integration_id')
    .primaryKey()
    .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
  organizationId: organizationId(),
  replyTokenKey: jsonb('reply_token_key').$type<CredentialEnvelope>().notNull(),
  inboundSecretSha256: text('inbound_secret_sha256'),
  createdAt: createdAt(),
});

/** When each sender last got the acknowledgement, per mailbox. */
export const emailAutoReplies = pgTable(
  'email_auto_replies',
  {
    integrationId: uuid('integration_id')
      .notNull()
      .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    sender: text('sender').notNull(),
    lastSentAt: timestamp('last_sent_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.integrationId, t.sender] })],
);

// ---- Notifications (issue 13). Rules route events to people and places in one SQL statement per relay batch
// (activities/notifications/route.ts); every routed notification is a row here, and so is every decision about it.

/**
 * A rule: which events (`trigger_events`), under which conditions, reach whom (`recipients`) on which channels, and
 * how (`delivery`: immediately, in a digest, or throttled; `severity` critical ignores quiet hours and digests).
 * The JSON shapes are the zod schemas of domain/notifications/schemas.ts; the routing statement reads them.
 */
export const notificationRules = pgTable(
  'notification_rules',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    name: text('name').notNull(),
    triggerEvents: jsonb('trigger_events').notNull().default([]),
    channels: jsonb('channels').notNull().default([]),
    recipients: jsonb('recipients').notNull().default([]),
    isActive: boolean('is_active').notNull().default(true),
    conditions: jsonb('conditions').notNull().default({}),
    delivery: jsonb('delivery').notNull().default({ mode: 'immediate' }),
    severity: text('severity').notNull().default('normal'),
    /** `{ afterMinutes, recipients }`: who is told when nobody acknowledges a critical alert in time. */
    escalation: jsonb('escalation'),
    /** The webhook endpoint the `webhook` channel posts to. */
    webhookEndpointId: uuid('webhook_endpoint_id').references(() => integrationConfigs.id, { onDelete: 'set null' }),
    /** Set on the defaults an organisation starts with (domain/notifications/defaults.ts), so they are seeded once. */
    defaultKey: text('default_key'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('notification_rules_org_idx').on(t.organizationId),
    index('notification_rules_triggers_idx').using('gin', t.triggerEvents),
    uniqueIndex('notification_rules_default_uq')
      .on(t.organizationId, t.defaultKey)
      .where(sql`${t.defaultKey} is not null`),
  ],
);

/** A member's own say: channels per event category, quiet hours in their time zone, and a digest cadence. */
export const notificationPreferences = pgTable(
  'notification_preferences',
  {
    organizationId: organizationId(),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    /** `{ [category]: channel[] }`: a category left out keeps every channel; an empty list is "off". */
    channels: jsonb('channels').notNull().default({}),
    /** `{ start: 'HH:MM', end: 'HH:MM', timeZone }`, or null for none. */
    quietHours: jsonb('quiet_hours'),
    /** off: as each rule says; hourly or daily: non-critical notifications are gathered into one digest. */
    digestFrequency: text('digest_frequency').notNull().default('off'),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.userId] })],
);

/**
 * One notification for one recipient on one channel, and what became of it: pending until the recipient's
 * workflow decides; then sent, digested (went out inside a digest, `digest_id`), throttled, deferred (quiet hours,
 * until `deliver_after`), suppressed (a preference, or the recipient's own change) or failed. The dashboard's
 * fatigue view reads the decisions; the in-app centre reads the sent in-app rows. Unique per recipient, channel and
 * dedupe key, so an event that several rules route to the same person reaches them once.
 */
export const notifications = pgTable(
  'notifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    organizationId: organizationId(),
    /** The recipient workflow's key: a user id, `slack:<integration>:<channel>` or `customer:<id>`. */
    recipientKey: text('recipient_key').notNull(),
    userId: text('user_id').references(() => user.id, { onDelete: 'cascade' }),
    channel: text('channel').notNull(),
    ruleId: uuid('rule_id').references(() => notificationRules.id, { onDelete: 'set null' }),
    eventId: bigint('event_id', { mode: 'number' }),
    ticketId: uuid('ticket_id'),
    eventType: text('event_type').notNull(),
    category: text('category').notNull(),
    severity: text('severity').notNull().default('normal'),
    dedupeKey: text('dedupe_key').notNull(),
    /** The rule's delivery when routed, so editing a rule does not change what is already queued. */
    delivery: jsonb('delivery').notNull(),
    groupKey: text('group_key').notNull(),
    title: text('title').notNull(),
    body: text('body').notNull().default(''),
    link: text('link'),
    status: text('status').notNull().default('pending'),
    reason: text('reason'),
    deliverAfter: timestamp('deliver_after', { withTimezone: true }),
    digestId: bigint('digest_id', { mode: 'number' }),
    alertId: uuid('alert_id'),
    /** The webhook channel's endpoint (the rule's when routed): part of the row's identity, so two rules' endpoints both get it. */
    webhookEndpointId: uuid('webhook_endpoint_id'),
    createdAt: createdAt(),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    readAt: timestamp('read_at', { withTimezone: true }),
    /** When its channel first failed to send it (retried for a day from then). */
    failingSince: timestamp('failing_since', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('notifications_dedupe_uq').on(t.organizationId, t.recipientKey, t.channel, t.dedupeKey),
    index('notifications_pending_idx').on(t.recipientKey, t.id).where(sql`${t.status} in ('pending', 'deferred')`),
    index('notifications_user_idx').on(t.organizationId, t.userId, t.id),
    index('notifications_sent_idx').on(t.recipientKey, t.sentAt),
    index('notifications_event_idx').on(t.eventId),
  ],
);

/**
 * A critical alert that escalates when nobody acknowledges it in time: its workflow (`notify-alert/<id>`) waits
 * for an acknowledgement (dashboard, email link, Slack button) until `escalate_at`.
 */
export const notificationAlerts = pgTable(
  'notification_alerts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    ruleId: uuid('rule_id').references(() => notificationRules.id, { onDelete: 'set null' }),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    ticketId: uuid('ticket_id'),
    escalateAt: timestamp('escalate_at', { withTimezone: true }).notNull(),
    /** The escalation's recipients as the rule said when the alert was raised. */
    escalation: jsonb('escalation').notNull(),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    acknowledgedBy: text('acknowledged_by'),
    escalatedAt: timestamp('escalated_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('notification_alerts_event_rule_uq').on(t.eventId, t.ruleId)],
);

// ---- Outbound webhooks (issue 3). An endpoint is an integration_configs row of type `webhook`.

export const webhookDeliveryStatus = pgEnum('webhook_delivery_status', ['pending', 'succeeded', 'failed']);

/**
 * One event to be sent: the body is frozen at enqueue time so every retry sends the same bytes.
 * The id (`msg_…`) is the Standard Webhooks `webhook-id`, stable across retries and endpoints.
 */
export const webhookMessages = pgTable(
  'webhook_messages',
  {
    id: text('id').primaryKey(),
    organizationId: organizationId(),
    /** ticket_events.id; unique so that one event becomes one message however often it is enqueued. */
    eventId: bigint('event_id', { mode: 'number' }),
    ticketId: uuid('ticket_id'),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('webhook_messages_event_uq').on(t.eventId).where(sql`${t.eventId} is not null`),
    index('webhook_messages_org_created_idx').on(t.organizationId, t.createdAt),
  ],
);

/** A message to one endpoint: the unit that is retried, leased by the endpoint workflow while in flight. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    messageId: text('message_id')
      .notNull()
      .references(() => webhookMessages.id, { onDelete: 'cascade' }),
    status: webhookDeliveryStatus('status').notNull().default('pending'),
    attemptCount: integer('attempt_count').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    /** Set while a batch holds the delivery; a crashed batch's lease simply expires. */
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    succeededAt: timestamp('succeeded_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_message_endpoint_uq').on(t.messageId, t.endpointId),
    index('webhook_deliveries_due_idx').on(t.endpointId, t.status, t.nextAttemptAt),
    index('webhook_deliveries_endpoint_created_idx').on(t.endpointId, t.createdAt),
  ],
);

/**
 * An endpoint whose delivery batch is listening for new deliveries (LISTEN webhook_deliveries) until
 * `listening_until`: the relay's fan-out then notifies it in the same transaction instead of waking its workflow
 * through Temporal. The batch clears the row before it stops listening, and that update waits for every fan-out
 * that read the row as listening (they hold it FOR SHARE), so none of their deliveries is left unseen. A batch that
 * dies leaves a time that simply passes; wakes resume then, and Temporal's retry of the batch claims the rest.
 */
export const webhookEndpointListeners = pgTable('webhook_endpoint_listeners', {
  endpointId: uuid('endpoint_id')
    .primaryKey()
    .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
  /**
   * The batch that owns the row (a token per batch). Each batch takes the row over when it starts, so a batch that
   * was superseded (its heartbeat lost, a newer attempt running) can no longer say it listens.
   */
  owner: text('owner'),
  listeningUntil: timestamp('listening_until', { withTimezone: true }),
  /** When the current owner took the row over: a wake sent before this was answered by that batch. */
  takenAt: timestamp('taken_at', { withTimezone: true }),
  /**
   * When the relay last woke the endpoint's workflow (the fan-out's time, written once the signal was accepted).
   * Until a batch takes the row over after it, the loop is known to be coming: later fan-outs add their deliveries
   * without another wake, so a burst on a cold endpoint costs one signal, not one per relay batch. Trusted for
   * 30 s only (a workflow an operator terminated after the signal must not silence its endpoint).
   */
  wakeSentAt: timestamp('wake_sent_at', { withTimezone: true }),
  /**
   * The owner the row had when that wake's fan-out read it. A takeover changes the owner (listening batches) or
   * `taken_at` (every batch of this release): either one says the wake was answered. The owner alone also covers a
   * worker of the previous release, which does not write `taken_at`, while a rolling deploy runs both.
   */
  wakeOwner: text('wake_owner'),
});

export const webhookAttempts = pgTable(
  'webhook_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    // The delivery's organisation and endpoint, copied for the attempt log's and health's indexes. Not foreign keys:
    // the delivery's key already ties an attempt to both (deleting either cascades through the delivery), and each
    // checked key cost every attempt's insert an index probe and a row lock on the parent, the same organisation
    // row for every attempt (migration 0019, specification/performance.md, "Writes a delivery no longer makes").
    organizationId: text('organization_id').notNull(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    endpointId: uuid('endpoint_id').notNull(),
    attemptNumber: integer('attempt_number').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    /** Null while the attempt is `sending` (and for ever if the worker stopped before its outcome was written). */
    durationMs: integer('duration_ms'),
    statusCode: integer('status_code'),
    /** Bounded excerpt of the response body (the receiver's text, never ours). */
    responseExcerpt: text('response_excerpt'),
    errorClass: text('error_class'),
    /**
     * 'succeeded' | 'retry' | 'failed' | 'disabled', or 'sending': written before the request goes out, so an attempt
     * whose worker stopped before it could record the answer stays visible (outcome unknown) instead of vanishing.
     */
    outcome: text('outcome').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('webhook_attempts_delivery_idx').on(t.deliveryId, t.attemptNumber),
    // When the attempt was opened (its claim), not when its request went out: the outcome write sets started_at, and
    // an index on it made every outcome write a new row version with new entries in every index. Off it, the write
    // stays on the row's page (a HOT update). Readers that ask about started_at bound the scan with created_at, which
    // precedes it by less than a batch's lifetime (ATTEMPT_START_LAG_MS in common/webhooks/attempt-window.ts).
    index('webhook_attempts_endpoint_created_idx').on(t.endpointId, t.createdAt),
  ],
);

/** Organisation-level integration events shown in the dashboard (endpoint.disabled, secret.rotated, …). */
export const integrationEvents = pgTable(
  'integration_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    organizationId: organizationId(),
    integrationConfigId: uuid('integration_config_id')
      .notNull()
      .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    payload: jsonb('payload').notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [index('integration_events_config_idx').on(t.integrationConfigId, t.id)],
);

/** Per-organisation overrides; null columns mean the built-in default. */
export const organizationSettings = pgTable('organization_settings', {
  organizationId: text('organization_id')
    .primaryKey()
    .references(() => organization.id, { onDelete: 'cascade' }),
  webhookRetryScheduleMs: integer('webhook_retry_schedule_ms').array(),
  webhookFailureDisableAfterMs: bigint('webhook_failure_disable_after_ms', { mode: 'number' }),
  /** Attachments (issue 10): the largest file, and the bytes a ticket and the whole organisation may hold. */
  attachmentMaxFileBytes: bigint('attachment_max_file_bytes', { mode: 'number' }),
  attachmentTicketQuotaBytes: bigint('attachment_ticket_quota_bytes', { mode: 'number' }),
  attachmentOrgQuotaBytes: bigint('attachment_org_quota_bytes', { mode: 'number' }),
  updatedAt: updatedAt(),
});

// ---- Linear (issue 4). An installation is an integration_configs row of type `linear`; a link between a ticket
// and a Linear issue is an external_sync_records row, synced by the workflow `linear-sync/<ticketId>/<issueId>`.

/**
 * A pending OAuth authorisation: the `state` we sent to Linear (CSRF) and the PKCE verifier that goes with it.
 * Single use, short-lived, bound to the admin who started it.
 */
export const linearOauthStates = pgTable(
  'linear_oauth_states',
  {
    /** SHA-256 (hex) of the `state` parameter; the state itself is only ever in the admin's browser. */
    stateHash: text('state_hash').primaryKey(),
    organizationId: organizationId(),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    /** Reconnecting an existing installation keeps its id (and its links); null creates a new one. */
    integrationConfigId: uuid('integration_config_id').references(() => integrationConfigs.id, {
      onDelete: 'cascade',
    }),
    /** The PKCE code verifier, sealed like credentials (it is a secret until the code is exchanged). */
    codeVerifier: jsonb('code_verifier').$type<CredentialEnvelope>().notNull(),
    /** 'user' or 'app' (Linear's actor=app: changes appear as the application, not the admin). */
    actor: text('actor').notNull().default('user'),
    /**
     * SHA-256 (hex) of the id of the browser session that started the flow: only that session can complete it
     * (not another session of the same admin, not an API key).
     */
    sessionHash: text('session_hash').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('linear_oauth_states_expires_idx').on(t.expiresAt)],
);

/**
 * Which ticket comment is which external comment, per link: a comment is mirrored once, and its mirror coming
 * back as a webhook is recognised as our own.
 */
export const externalCommentLinks = pgTable(
  'external_comment_links',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    syncRecordId: uuid('sync_record_id')
      .notNull()
      .references(() => externalSyncRecords.id, { onDelete: 'cascade' }),
    ticketCommentId: uuid('ticket_comment_id')
      .notNull()
      .references(() => ticketComments.id, { onDelete: 'cascade' }),
    externalCommentId: text('external_comment_id').notNull(),
    /** 'outbound' (a ticket comment we posted to the external system) or 'inbound' (imported from it). */
    direction: text('direction').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('external_comment_links_ticket_uq').on(t.syncRecordId, t.ticketCommentId),
    uniqueIndex('external_comment_links_external_uq').on(t.syncRecordId, t.externalCommentId),
  ],
);

/** A field both sides changed since the last sync, and how the configured policy settled it. */
export const externalSyncConflicts = pgTable(
  'external_sync_conflicts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    organizationId: organizationId(),
    syncRecordId: uuid('sync_record_id')
      .notNull()
      .references(() => externalSyncRecords.id, { onDelete: 'cascade' }),
    field: text('field').notNull(),
    ticketValue: jsonb('ticket_value'),
    externalValue: jsonb('external_value'),
    /** 'ticket' or 'external': whose value both sides now hold. */
    winner: text('winner').notNull(),
    /** The policy that decided ('latest', 'ticket', 'linear'). */
    policy: text('policy').notNull(),
    ticketChangedAt: timestamp('ticket_changed_at', { withTimezone: true }),
    externalChangedAt: timestamp('external_changed_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('external_sync_conflicts_record_idx').on(t.syncRecordId, t.id)],
);

// ---- Slack (issue 12). An installation (one workspace linked to one organisation) is an integration_configs row of
// type `slack` whose sealed credentials hold the bot token; these tables hold what Slack's side needs besides.

/** Which organisation each Slack workspace belongs to (a workspace is linked to one), and whether it is connected. */
export const slackWorkspaces = pgTable(
  'slack_workspaces',
  {
    teamId: text('team_id').primaryKey(),
    integrationId: uuid('integration_id')
      .notNull()
      .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    organizationId: organizationId(),
    teamName: text('team_name').notNull(),
    botUserId: text('bot_user_id').notNull(),
    appId: text('app_id'),
    installedBy: text('installed_by').references(() => user.id, { onDelete: 'set null' }),
    /** Null while connected; why not otherwise (`app_uninstalled`, `tokens_revoked`, `invalid_auth`). */
    disconnectedReason: text('disconnected_reason'),
    disconnectedAt: timestamp('disconnected_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('slack_workspaces_integration_uq').on(t.integrationId)],
);

/** "Add to Slack" flows started by an admin: single use, short-lived, stored as a hash. */
export const slackOauthStates = pgTable('slack_oauth_states', {
  stateHash: text('state_hash').primaryKey(),
  organizationId: organizationId(),
  userId: text('user_id')
    .notNull()
    .references(() => user.id, { onDelete: 'cascade' }),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  createdAt: createdAt(),
});

/**
 * Every message Switchboard posts to Slack, keyed by what it is (`parent/<ticket>/<channel>`, `event/<id>/<channel>`):
 * the row is written before the post and given its ts after, so a retried post finds the earlier attempt (here, or
 * by the key in the message's metadata on Slack) instead of posting twice. A ticket's parent row is also how a reply
 * in its thread finds the ticket.
 */
export const slackPosts = pgTable(
  'slack_posts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    integrationId: uuid('integration_id')
      .notNull()
      .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => supportRequests.id, { onDelete: 'cascade' }),
    postKey: text('post_key').notNull(),
    /** parent (a ticket's message in a channel or DM), reply (in its thread), dm (to an agent). */
    kind: text('kind').notNull(),
    channelId: text('channel_id').notNull(),
    threadTs: text('thread_ts'),
    ts: text('ts'),
    /** A parent's link (chat.getPermalink), for the ticket page. */
    permalink: text('permalink'),
    /**
     * When it was last sent to Slack: stamped before the call (while `ts` is still null, a reply in its thread may
     * arrive before the ts is written, see api/routes/slack-events.ts), then when Slack answered.
     */
    postedAt: timestamp('posted_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('slack_posts_key_uq').on(t.integrationId, t.postKey),
    index('slack_posts_message_idx').on(t.integrationId, t.channelId, t.ts),
    index('slack_posts_ticket_idx').on(t.ticketId),
  ],
);

/**
 * What arrived from Slack (an event, a command, a click, a submitted modal), once: the key is Slack's event id or
 * the interaction's trigger id, so Events API retries and double clicks find the first row and change nothing. The
 * ticket's workflow applies it and records the outcome.
 */
export const slackInbound = pgTable(
  'slack_inbound',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: organizationId(),
    integrationId: uuid('integration_id')
      .notNull()
      .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    dedupeKey: text('dedupe_key').notNull(),
    kind: text('kind').notNull(),
    ticketId: uuid('ticket_id').references(() => supportRequests.id, { onDelete: 'set null' }),
    payload: jsonb('payload').notNull(),
    /** received, applied, refused. */
    status: text('status').notNull().default('received'),
    outcome: text('outcome'),
    createdAt: createdAt(),
    appliedAt: timestamp('applied_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('slack_inbound_key_uq').on(t.integrationId, t.dedupeKey),
    index('slack_inbound_created_idx').on(t.createdAt),
    // The sweep's rows (domain/slack/inbound.ts): almost none are `received` at any time.
    index('slack_inbound_received_idx').on(t.createdAt).where(sql`${t.status} = 'received'`),
  ],
);

/** A ticket's Slack work that waits for the workspace to be connected again, and why. */
export const slackPausedThreads = pgTable(
  'slack_paused_threads',
  {
    integrationId: uuid('integration_id')
      .notNull()
      .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    ticketId: uuid('ticket_id')
      .notNull()
      .references(() => supportRequests.id, { onDelete: 'cascade' }),
    organizationId: organizationId(),
    reason: text('reason').notNull(),
    pausedAt: timestamp('paused_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.integrationId, t.ticketId] })],
);

/** An agent's choice to get their assignments and mentions as Slack DMs. */
export const slackUserSettings = pgTable(
  'slack_user_settings',
  {
    organizationId: organizationId(),
    userId: text('user_id')
      .notNull()
      .references(() => user.id, { onDelete: 'cascade' }),
    dmAssignments: boolean('dm_assignments').notNull().default(false),
    dmMentions: boolean('dm_mentions').notNull().default(false),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.userId] })],
);

/**
 * Slack's per-channel posting pace (about one message a second, with bursts), shared by every worker: the
 * theoretical arrival time of the channel's next message (GCRA), advanced by one interval per post in one statement.
 */
export const slackChannelPace = pgTable(
  'slack_channel_pace',
  {
    integrationId: uuid('integration_id')
      .notNull()
      .references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    channelId: text('channel_id').notNull(),
    tat: timestamp('tat', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.integrationId, t.channelId] })],
);

// ---- Integration health (issue 13). What the health monitor (GET /api/integrations/health, the API's /metrics)
// reads besides each module's own tables; specification/integration-health.md.

/**
 * Outcomes per subject and minute, counted by recordIntegrationOutcome (and the files module's probes): the error
 * rate of the last hour and the history sparkline are sums over these rows. One upsert per outcome; a minute's row
 * is the unit, so a busy integration writes one row a minute, not one per call. The subject is the integration's
 * id, or a deployment part's key (`storage:default`, `scanner`) with no organisation.
 */
export const integrationOutcomeMinutes = pgTable(
  'integration_outcome_minutes',
  {
    subject: text('subject').notNull(),
    organizationId: text('organization_id').references(() => organization.id, { onDelete: 'cascade' }),
    integrationId: uuid('integration_id').references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    integrationType: text('integration_type').notNull(),
    minute: timestamp('minute', { withTimezone: true }).notNull(),
    successes: integer('successes').notNull().default(0),
    errors: integer('errors').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.subject, t.minute] }),
    // Metrics sum the last hour by type; the sampler prunes old minutes.
    index('integration_outcome_minutes_minute_idx').on(t.minute),
  ],
);

/**
 * The last state each health item was seen in, per organisation: what the sampler compares a new sample with (a
 * change from healthy or unknown to failing or disconnected notifies the admins once), and what /metrics counts by
 * type without evaluating every organisation's integrations on each scrape.
 */
export const integrationHealthStates = pgTable(
  'integration_health_states',
  {
    organizationId: organizationId(),
    /** The integration's id, or a deployment part's key (`storage:default`, `scanner`). */
    itemKey: text('item_key').notNull(),
    integrationId: uuid('integration_id').references(() => integrationConfigs.id, { onDelete: 'cascade' }),
    integrationType: text('integration_type').notNull(),
    status: text('status').notNull(),
    reason: text('reason'),
    backlog: integer('backlog').notNull().default(0),
    /** When the status last changed, and when it was last sampled. */
    changedAt: timestamp('changed_at', { withTimezone: true }).notNull().defaultNow(),
    sampledAt: timestamp('sampled_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.organizationId, t.itemKey] })],
);
