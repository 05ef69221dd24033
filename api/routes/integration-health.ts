// The integration health monitor over HTTP (issue 13): GET /api/integrations/health for the dashboard and for
// monitoring (every member may read it; nothing secret is in it, error texts as recorded), and the Prometheus
// metrics beside it on /metrics, by integration type only (never by organisation: one series per tenant would be
// both a cardinality and a disclosure problem).
import { sql } from 'drizzle-orm';
import { Router } from 'express';
import { Gauge, type Registry } from 'prom-client';
import { z } from 'zod';
import type { IntegrationHealthStatus } from '../../common/integration-contract.ts';
import type { HealthModules, IntegrationHealthItem } from '../../domain/integrations/health/report.ts';
import { sampleIntegrationHealth } from '../../domain/integrations/health/sample.ts';
import { scopeOf } from '../../domain/scope.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';

const statuses = [
  'healthy',
  'degraded',
  'failing',
  'disconnected',
  'disabled',
  'unknown',
] as const satisfies readonly IntegrationHealthStatus[];
const isoDateTime = z.iso.datetime({ offset: true });

const IntegrationHealthItemSchema = registry.register(
  'IntegrationHealthItem',
  z.object({
    key: z.string().describe("The integration's id, or a deployment part's key (storage:default, scanner)"),
    integrationId: z.uuid().nullable().describe('Null for a part of the deployment (the default store, the scanner)'),
    integrationType: z.string().describe('Its module, and the IntegrationType search attribute of its workflows'),
    label: z.string(),
    status: z
      .enum(statuses)
      .describe(
        'disconnected: the third party let go of it (uninstalled, token revoked); disabled: switched off here; ' +
          'failing: its latest outcome was an error; degraded: working, with work held back (rate limits, paused ' +
          'tickets); healthy: its latest outcome was a success; unknown: nothing yet',
      ),
    lastSuccessAt: isoDateTime.nullable(),
    lastErrorAt: isoDateTime.nullable(),
    lastError: z.string().nullable().describe('As recorded: what failed, never a request body or a secret'),
    stoppedReason: z.string().nullable().describe('Why it is switched off, paused, held back or disconnected'),
    backlog: z
      .object({ count: z.number().int().min(0), description: z.string() })
      .nullable()
      .describe('Work waiting on it: pending deliveries, queued link changes, held mail, files waiting for a scan'),
    lastHour: z.object({
      successes: z.number().int().min(0),
      errors: z.number().int().min(0),
      errorRate: z.number().min(0).max(1).nullable().describe('errors / (successes + errors); null without outcomes'),
    }),
    history: z
      .array(z.object({ at: isoDateTime, successes: z.number().int().min(0), errors: z.number().int().min(0) }))
      .describe('Outcomes per quarter hour over the last six hours, oldest first (the sparkline)'),
    ticketLevelSync: z.boolean().describe('Tickets show its per-ticket sync state (ExternalSyncStatus)'),
    workflowsUrl: z.string().describe('Its workflows in the Temporal Web UI (IntegrationType and OrganizationId)'),
  }),
);
const IntegrationHealthList = registry.register(
  'IntegrationHealth',
  z.object({ data: z.array(IntegrationHealthItemSchema), sampledAt: isoDateTime }),
);

function toView(item: IntegrationHealthItem): z.infer<typeof IntegrationHealthItemSchema> {
  return {
    key: item.key,
    integrationId: item.integrationId,
    integrationType: item.integrationType,
    label: item.label,
    status: item.status,
    lastSuccessAt: item.lastSuccessAt?.toISOString() ?? null,
    lastErrorAt: item.lastErrorAt?.toISOString() ?? null,
    lastError: item.lastError,
    stoppedReason: item.stoppedReason,
    backlog: item.backlog,
    lastHour: item.lastHour,
    history: item.history.map((p) => ({ at: p.at.toISOString(), successes: p.successes, errors: p.errors })),
    ticketLevelSync: item.ticketLevelSync,
    workflowsUrl: item.workflowsUrl,
  };
}

/** Mounted before the generic integration routes, so `/api/integrations/health` is never read as an id. */
export function integrationHealthRouter(deps: ApiDeps, modules: HealthModules, metrics?: Registry): Router {
  const router = Router();
  if (metrics) registerHealthMetrics(deps, metrics);

  defineRoute(router, {
    method: 'get',
    path: '/api/integrations/health',
    summary:
      'Every integration of the organisation at a glance (and the default file store and virus scanner): state, ' +
      'last success and error, error rate of the last hour, backlog, why paused or disconnected, and history',
    tags: ['Integrations'],
    minRole: 'viewer',
    responses: { 200: { description: 'One item per integration or deployment part', schema: IntegrationHealthList } },
    handler: async ({ auth, req }) => {
      const now = new Date();
      // A read is a sample: it refreshes the stored states and notices a change into failing right away.
      const { items } = await sampleIntegrationHealth(deps, modules, scopeOf(auth, req.id).organizationId, now);
      return { status: 200, body: { data: items.map(toView), sampledAt: now.toISOString() } };
    },
  });
  return router;
}

/**
 * Gauges read at scrape time from what the samples stored (integration_health_states) and the outcome counts: two
 * small grouped queries, whatever the number of organisations. A deployment part (the scanner) is one thing however
 * many organisations see it, so items are counted by distinct key.
 */
function registerHealthMetrics(deps: ApiDeps, metrics: Registry): void {
  const byStatus = new Gauge({
    name: 'switchboard_integrations',
    help: 'Integrations (and deployment parts) by type and health status, as last sampled',
    labelNames: ['integration_type', 'status'] as const,
    registers: [metrics],
    async collect() {
      const rows = await deps.db.execute<{ integration_type: string; status: string; items: number }>(sql`
        select integration_type, status, count(distinct coalesce(integration_id::text, item_key))::int as items
        from integration_health_states group by integration_type, status`);
      this.reset();
      for (const type of new Set(rows.rows.map((r) => r.integration_type)))
        for (const status of statuses) this.set({ integration_type: type, status }, 0);
      for (const r of rows.rows) this.set({ integration_type: r.integration_type, status: r.status }, r.items);
    },
  });
  const backlog = new Gauge({
    name: 'switchboard_integration_backlog',
    help: 'Work waiting on integrations by type (pending deliveries, queued link changes, held mail, pending scans)',
    labelNames: ['integration_type'] as const,
    registers: [metrics],
    async collect() {
      const rows = await deps.db.execute<{ integration_type: string; backlog: number }>(sql`
        select integration_type, sum(backlog)::int as backlog from integration_health_states group by integration_type`);
      this.reset();
      for (const r of rows.rows) this.set({ integration_type: r.integration_type }, r.backlog);
    },
  });
  const outcomes = new Gauge({
    name: 'switchboard_integration_outcomes_last_hour',
    help: 'Calls to third parties in the last hour by integration type and outcome (success, error)',
    labelNames: ['integration_type', 'outcome'] as const,
    registers: [metrics],
    async collect() {
      const rows = await deps.db.execute<{ integration_type: string; successes: number; errors: number }>(sql`
        select integration_type, sum(successes)::int as successes, sum(errors)::int as errors
        from integration_outcome_minutes where minute > now() - interval '1 hour'
        group by integration_type`);
      this.reset();
      for (const r of rows.rows) {
        this.set({ integration_type: r.integration_type, outcome: 'success' }, r.successes);
        this.set({ integration_type: r.integration_type, outcome: 'error' }, r.errors);
      }
    },
  });
  const sampled = new Gauge({
    name: 'switchboard_integration_health_sampled_timestamp_seconds',
    help: 'When integration health was last sampled (alert when it stops moving)',
    registers: [metrics],
    async collect() {
      const rows = await deps.db.execute<{ at: number | null }>(
        sql`select extract(epoch from max(sampled_at))::float8 as at from integration_health_states`,
      );
      this.set(Number(rows.rows[0]?.at ?? 0));
    },
  });
  void [byStatus, backlog, outcomes, sampled];
}
