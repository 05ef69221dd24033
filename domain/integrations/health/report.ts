// The health monitor's answer for one organisation (issue 13): each module reports its own items from its own tables
// (IntegrationServer.health), and this adds what every item has in common: the outcome counts of the last hour and
// the history sparkline, both sums over integration_outcome_minutes, and the link to its workflows in Temporal.

import { integrationConfigs } from '@switchboard/database';
import { asc, eq, sql } from 'drizzle-orm';
import type {
  IntegrationDefinition,
  IntegrationHealthReport,
  IntegrationServer,
  ServiceDeps,
} from '../../../common/integration-contract.ts';
import { integrationRowReport } from '../health.ts';

export type HealthModules = ReadonlyArray<{ definition: IntegrationDefinition; server: IntegrationServer }>;

/** The sparkline: this many points of this many minutes each (six hours, a point per quarter hour). */
export const HISTORY_POINTS = 24;
export const HISTORY_STEP_MINUTES = 15;

export type HealthHistoryPoint = { at: Date; successes: number; errors: number };

export type IntegrationHealthItem = IntegrationHealthReport & {
  lastHour: { successes: number; errors: number; errorRate: number | null };
  history: HealthHistoryPoint[];
  /** The Temporal Web UI's list of its workflows in this organisation (a search by IntegrationType). */
  workflowsUrl: string;
};

/** Every item of the organisation's monitor, in the modules' order, each module's items as it gives them. */
export async function readIntegrationHealth(
  deps: ServiceDeps,
  modules: HealthModules,
  organizationId: string,
  now: Date = new Date(),
): Promise<IntegrationHealthItem[]> {
  const rows = await deps.db
    .select()
    .from(integrationConfigs)
    .where(eq(integrationConfigs.organizationId, organizationId))
    .orderBy(asc(integrationConfigs.createdAt), asc(integrationConfigs.id));
  const perModule = await Promise.all(
    modules.map(({ definition, server }) => {
      const integrations = rows.filter((r) => r.integrationType === definition.type);
      if (server.health) return server.health(deps, { organizationId, integrations, now });
      return Promise.resolve(integrations.map((row) => integrationRowReport(row)));
    }),
  );
  const reports = perModule.flat();
  const counts = await outcomeCounts(
    deps,
    organizationId,
    reports.map((r) => r.key),
    now,
  );
  return reports.map((report) => {
    const history = counts.get(report.key) ?? emptyHistory(now);
    const lastHour = counts.lastHour.get(report.key) ?? { successes: 0, errors: 0 };
    const total = lastHour.successes + lastHour.errors;
    return {
      ...report,
      lastHour: { ...lastHour, errorRate: total === 0 ? null : lastHour.errors / total },
      history,
      workflowsUrl: temporalWorkflowsUrl(deps, organizationId, report.integrationType),
    };
  });
}

/** The Web UI's workflow list filtered by the IntegrationType search attribute, within the organisation. */
export function temporalWorkflowsUrl(deps: ServiceDeps, organizationId: string, integrationType: string): string {
  const { uiOrigin, namespace } = deps.config.temporal;
  const query = `IntegrationType="${integrationType}" AND OrganizationId="${organizationId}"`;
  return `${uiOrigin.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(query)}`;
}

/** The start of the sparkline's first point: whole steps, so a point's counts do not shift between two reads. */
function historyStart(now: Date): number {
  const step = HISTORY_STEP_MINUTES * 60_000;
  return Math.floor(now.getTime() / step) * step - (HISTORY_POINTS - 1) * step;
}

function emptyHistory(now: Date): HealthHistoryPoint[] {
  const start = historyStart(now);
  return Array.from({ length: HISTORY_POINTS }, (_, i) => ({
    at: new Date(start + i * HISTORY_STEP_MINUTES * 60_000),
    successes: 0,
    errors: 0,
  }));
}

/**
 * The counts of these subjects (the organisation's, and the deployment's parts, which have no organisation): per
 * sparkline point, and over the last hour (the current minute and the 59 before it). One query for every item.
 */
async function outcomeCounts(
  deps: ServiceDeps,
  organizationId: string,
  subjects: string[],
  now: Date,
): Promise<Map<string, HealthHistoryPoint[]> & { lastHour: Map<string, { successes: number; errors: number }> }> {
  const start = historyStart(now);
  const hourStart = Math.floor(now.getTime() / 60_000) * 60_000 - 59 * 60_000;
  const from = new Date(Math.min(start, hourStart));
  const result = await deps.db.execute<{ subject: string; minute: Date | string; successes: number; errors: number }>(
    sql`select subject, minute, successes, errors from integration_outcome_minutes
        where subject = any(${sql.param(subjects)}::text[])
          and (organization_id = ${organizationId} or organization_id is null)
          and minute >= ${from.toISOString()}::timestamptz
          and minute <= ${now.toISOString()}::timestamptz`,
  );
  const history = new Map<string, HealthHistoryPoint[]>() as Map<string, HealthHistoryPoint[]> & {
    lastHour: Map<string, { successes: number; errors: number }>;
  };
  history.lastHour = new Map();
  const step = HISTORY_STEP_MINUTES * 60_000;
  for (const row of result.rows) {
    const at = new Date(row.minute).getTime();
    const successes = Number(row.successes);
    const errors = Number(row.errors);
    if (at >= start) {
      const points = history.get(row.subject) ?? emptyHistory(now);
      history.set(row.subject, points);
      const point = points[Math.floor((at - start) / step)];
      if (point) {
        point.successes += successes;
        point.errors += errors;
      }
    }
    if (at >= hourStart) {
      const hour = history.lastHour.get(row.subject) ?? { successes: 0, errors: 0 };
      hour.successes += successes;
      hour.errors += errors;
      history.lastHour.set(row.subject, hour);
    }
  }
  return history;
}
