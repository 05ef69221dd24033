// How ticket events reach integrations: the relay reads a batch of outbox rows and asks every subscriber what the
// batch means for it. Two kinds, because they cost Temporal very different amounts:
//
// - queue-like subscribers (webhooks; notifications later) turn the whole batch into queued work with set-based
//   SQL, then need at most one wake per target workflow (an endpoint's delivery loop) for the batch;
// - workflow subscribers (the SLA clock, Linear links; Slack and email threads later) own durable per-entity state
//   and are signalled only for the events they want, decided from facts the batch already carries or one cheap
//   query for the whole batch; all of one ticket's wanted events go to a target as one signal.
//
// A ticket event that no subscriber wants costs Temporal nothing. Either kind answers with sends; the relay runs
// them, and marks a ticket's events dispatched only once every send about that ticket succeeded. A failed send holds
// its tickets back (and retries them later, whole): planning must therefore be idempotent, and every target must
// tolerate an event it has already seen (the event id is the dedupe key).
import type { Database, integrationConfigs } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import type { ErrorRequestHandler, Router } from 'express';
import type { ZodType } from 'zod';
import type { ModuleSettings, ServiceConfig } from './integration-settings.ts';
import type { Logger } from './logger.ts';
import type { Actor, DispatchedTicketEvent } from './ticket-events.ts';

export type RelayContext = {
  db: Database;
  temporal: Client;
  /** The task queue the ticket-level workflows (SLA, Linear links) run on; tests pass their own. */
  ticketsTaskQueue: string;
  /** Deadline for one call to Temporal (a send), epoch ms. */
  deadline(): number;
  /**
   * The switched-on integrations of this type in the batch's organisations. The types the subscribers declare
   * (`integrationTypes`) come with the batch's own read, for all of them; another type costs a statement.
   */
  activeIntegrations(integrationType: string): Promise<ActiveIntegration[]>;
  /** Every integration of this type in the batch's organisations, switched on or off (read as above). */
  installedIntegrations(integrationType: string): Promise<InstalledIntegration[]>;
};

/** A switched-on integration of a relay batch's organisations, as a subscriber reads it to decide who hears. */
export type ActiveIntegration = { id: string; organizationId: string; config: unknown; createdAt: Date };
/** An integration of a relay batch's organisations, switched on or off. */
export type InstalledIntegration = ActiveIntegration & { isActive: boolean };

/** One call to Temporal (a wake or a signal) on behalf of the events of `ticketIds`. */
export type RelaySend = {
  /** Which workflow it reaches, for logs and metrics; sends are coalesced by it within a batch. */
  target: string;
  /** Tickets whose events wait for this send: a failure holds all of them back. */
  ticketIds: string[];
  send(): Promise<void>;
};

export type RelaySubscriber = {
  name: string;
  kind: 'queue' | 'workflow';
  /**
   * What the batch (one partition's waiting events, oldest first, each ticket's in id order) means for this
   * subscriber: queue-like ones write their work here, then return their wakes; workflow ones return their signals.
   * Runs again for the same events after any failure, so it must be idempotent.
   */
  plan(events: DispatchedTicketEvent[], ctx: RelayContext): Promise<RelaySend[]>;
  /**
   * The integration types whose installations `plan` reads through `ctx.activeIntegrations` or
   * `ctx.installedIntegrations`: the relay reads them with the batch itself, in the same statement.
   */
  integrationTypes?: readonly string[];
};

// ---------------------------------------------------------------------------------------------------------------
// The integration module: everything one integration brings, declared once. The worker, the API (with the generic
// /api/integrations routes), the relay, health reporting, the dashboard's integration list and the test harness all
// loop over the list in packages/integrations/index.ts; adding an integration is its own folders plus one line there
// (and its migration). The definition is plain data, cheap to import anywhere (the domain validates configs with
// it); the server part is loaded on demand, so the definition never pulls routers or activities into the domain.

/** What the API and the worker hand to an integration's server part. */
export type ServiceDeps = {
  db: Database;
  /** The core config and every served module's settings (each module reads its own with its accessor). */
  config: ServiceConfig;
  logger: Logger;
  /** Null in the API when Temporal was unreachable at start: workflow-starting routes fail with 503. */
  temporal: Client | null;
};

/** Who is acting and in which organisation (domain/scope.ts builds it from a request). */
export type Scope = {
  organizationId: string;
  actor: Actor;
  /** The person behind the actor: the signed-in user, or the owner of the API key. Null for system work. */
  userId: string | null;
  /** Correlates audit rows with the request log. */
  requestId?: string;
};

export type IntegrationDefinition = {
  /** The stored integration_type, and the name in URLs and the dashboard. */
  type: string;
  label: string;
  description: string;
  /** Config (visible to every member) and credentials (sealed, never returned) as the generic routes take them. */
  configSchema: ZodType;
  credentialsSchema: ZodType;
  /**
   * How an update's credentials apply: `replace` (the default) stores them as given; `merge` applies them as a JSON
   * Merge Patch to the stored ones (a key with a value sets that secret, null removes it, a key left out keeps it),
   * for modules whose credentials are independent secrets.
   */
  credentialsUpdate?: 'replace' | 'merge';
  dashboard: {
    /** The dashboard's setup component for this type (packages/dashboard/src/components/integrations/<type>/). */
    setupComponent: string;
    /** The query parameter an OAuth provider's return to the dashboard carries (`?linear=connected`). */
    oauthReturnParam?: string;
  };
  /**
   * Its own environment variables, if it has any (common/integration-settings.ts): read and checked when a process
   * starts, carried in the config under its type, read back with the module's accessor.
   */
  settings?: ModuleSettings<unknown>;
  server(): Promise<IntegrationServer>;
};

/** A Temporal worker an integration needs: its queue (derived from the tickets queue), activities and limits. */
export type WorkerSpec = {
  name: string;
  taskQueue(ticketsTaskQueue: string): string;
  /** Whether this queue also runs workflows (the shared bundle, workflows/index.ts). */
  workflows: boolean;
  activities: Record<string, (...args: never[]) => Promise<unknown>>;
  maxConcurrentActivities?: number;
  maxConcurrentWorkflowTasks?: number;
  /** Activities per second across all workers of the queue (a third party's limit). */
  activitiesPerSecond?: number;
  /**
   * The longest an activity's heartbeats are held back before going to Temporal (the SDK's default: 80% of the
   * heartbeat timeout). A cancellation reaches a running activity only in a heartbeat's answer, so this bounds how
   * long it takes.
   */
  heartbeatThrottleMs?: number;
};

export type WorkerDeps = ServiceDeps & {
  temporal: Client;
  /** Per-integration settings a test (or an operator) may override, keyed by integration type. */
  overrides?: Record<string, Record<string, unknown> | undefined>;
};

/** A Temporal Schedule an integration keeps: one workflow run every `everyMs`, on the integration's queue. */
export type ScheduleSpec = {
  scheduleId: string;
  everyMs: number;
  workflowType: string;
  taskQueue: string;
  args: unknown[];
};

/**
 * What the health monitor shows for one thing an integration keeps running (issue 13): one of the organisation's
 * integrations, or a part of the deployment a module depends on (the default file store, the virus scanner).
 * disconnected: the third party let go of it (an uninstalled app, a revoked token); disabled: switched off here,
 * by an admin or by the system with a reason; failing: its latest outcome was an error; degraded: working, with
 * work held back (rate limits, paused tickets); healthy: its latest outcome was a success; unknown: nothing yet.
 */
export type IntegrationHealthStatus = 'healthy' | 'degraded' | 'failing' | 'disconnected' | 'disabled' | 'unknown';

export type IntegrationHealthReport = {
  /** The integration's id, or the deployment part's key (`storage:default`, `scanner`): unique in one answer. */
  key: string;
  integrationId: string | null;
  /** Its integration type: the `IntegrationType` search attribute of its workflows. */
  integrationType: string;
  label: string;
  status: IntegrationHealthStatus;
  lastSuccessAt: Date | null;
  lastErrorAt: Date | null;
  /** As recorded: a description of the failure, never a request body or a secret. */
  lastError: string | null;
  /** Why it is switched off, paused or disconnected; null while it runs. */
  stoppedReason: string | null;
  /** Work waiting on it (pending deliveries, queued link changes, held mail, files waiting for a scan). */
  backlog: { count: number; description: string } | null;
  /** Whether tickets show this integration's per-ticket sync state (ExternalSyncStatus). */
  ticketLevelSync: boolean;
};

export type IntegrationRow = typeof integrationConfigs.$inferSelect;

/** A hook around a generic write: runs before it, and the function it returns runs once the write committed. */
export type AroundWrite = () => Promise<void>;

export type IntegrationServer = {
  /** Workers of the integration's own queues. */
  workers?(deps: WorkerDeps): WorkerSpec[];
  /**
   * The queues those workers poll, and whether each runs workflows, without building them: /readyz asks Temporal
   * whether each has pollers (of both kinds where it runs workflows). Must match the workers exactly
   * (test/integration-modules.test.ts checks every module).
   */
  taskQueues?(ticketsTaskQueue: string): Array<{ name: string; workflows: boolean }>;
  /** Activities that run on the tickets queue, next to the workflows (local activities, routing). */
  ticketsQueueActivities?(deps: WorkerDeps): WorkerSpec['activities'];
  /** Who hears of ticket events, and how (see RelaySubscriber). */
  relaySubscribers?(deps: { config: ServiceConfig }): RelaySubscriber[];
  /**
   * Periodic work (a sweep of leftovers): Temporal Schedules that every worker process creates at start if they do
   * not exist yet, so operators see and pause them in the Web UI like any schedule.
   */
  schedules?(ticketsTaskQueue: string): ScheduleSpec[];
  /**
   * The health monitor's view of this module in one organisation: an item per integration row of its type (given,
   * so each module reads only its own tables: backlog, disconnects) and per deployment part it owns. Without it,
   * each row is shown from its recorded outcomes alone. Outcome counts and history are added by the caller.
   */
  health?(
    deps: ServiceDeps,
    input: { organizationId: string; integrations: IntegrationRow[]; now: Date },
  ): Promise<IntegrationHealthReport[]>;
  routes?: {
    /** Mounted before the body parser and authentication: raw bodies, for signature checks. */
    public?(deps: ServiceDeps): Router;
    /** Mounted under /api after authentication and the JSON body parser. */
    authenticated?(deps: ServiceDeps): Router;
    /**
     * Mounted after authentication but before the JSON-only rule and parser: routes that read their own request
     * bodies as streams (multipart or resumable uploads) or stream their answers (downloads).
     */
    streaming?(deps: ServiceDeps): Router;
    /** Error handlers that turn errors on a path into this integration's own answers (an OAuth callback's redirect). */
    errorHandlers?: Array<{ path: string; handler: ErrorRequestHandler }>;
  };
  lifecycle?: {
    /** Replaces the generic create (a webhook generates its own signing secret); returns the new id. */
    create?(deps: ServiceDeps, scope: Scope, input: Record<string, unknown>): Promise<string>;
    /**
     * Before an update of an integration of this type (it may refuse it: a module whose credentials only its own
     * flow may set); what it returns runs after the update committed.
     */
    beforeUpdate?(
      deps: ServiceDeps,
      scope: Scope,
      integrationId: string,
      changes: { isActive?: boolean; config?: unknown; credentials?: unknown },
    ): Promise<AroundWrite>;
    /** Before a delete; what it returns runs after the delete committed. */
    beforeDelete?(deps: ServiceDeps, scope: Scope, integrationId: string): Promise<AroundWrite>;
  };
};
