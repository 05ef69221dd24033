import type { integrationConfigs } from '@switchboard/database';
import type { IntegrationHealthReport, IntegrationHealthStatus } from '../../common/integration-contract.ts';
import type { IntegrationView } from './schemas.ts';

type HealthFields = Pick<
  typeof integrationConfigs.$inferSelect,
  'isActive' | 'disabledReason' | 'lastSuccessAt' | 'lastErrorAt' | 'lastError'
>;

/**
 * disabled: switched off by an admin, or by the system with a reason (e.g. too many failures);
 * failing: the latest outcome was an error; degraded: otherwise fine, but `rateLimitedLinks` of its links wait on
 * the third party's rate limit (their changes go out late); healthy: the latest outcome was a success;
 * unknown: it has not done anything yet.
 */
export function integrationHealth(row: HealthFields, rateLimitedLinks = 0): IntegrationView['health'] {
  const status =
    !row.isActive || row.disabledReason
      ? 'disabled'
      : row.lastErrorAt && (!row.lastSuccessAt || row.lastErrorAt >= row.lastSuccessAt)
        ? 'failing'
        : rateLimitedLinks > 0
          ? 'degraded'
          : row.lastSuccessAt
            ? 'healthy'
            : 'unknown';
  return {
    status,
    rateLimitedLinks,
    lastSuccessAt: row.lastSuccessAt?.toISOString() ?? null,
    lastErrorAt: row.lastErrorAt?.toISOString() ?? null,
    lastError: row.lastError,
    disabledReason: row.disabledReason,
  };
}

/**
 * The health monitor's item for one integration row, from its recorded outcomes: what a module's health reporter
 * starts from, adding what only it knows (a backlog, work held back, a disconnect).
 */
export function integrationRowReport(
  row: HealthFields & Pick<typeof integrationConfigs.$inferSelect, 'id' | 'integrationType' | 'name'>,
  extra: {
    backlog?: IntegrationHealthReport['backlog'];
    /** Work held back while it otherwise works (rate-limited links, paused tickets), and why. */
    heldBack?: string | null;
    /** The third party let go of it (uninstalled, revoked), and why. */
    disconnected?: string | null;
    ticketLevelSync?: boolean;
  } = {},
): IntegrationHealthReport {
  const base = integrationHealth(row, extra.heldBack ? 1 : 0);
  const status: IntegrationHealthStatus = extra.disconnected && row.isActive ? 'disconnected' : base.status;
  return {
    key: row.id,
    integrationId: row.id,
    integrationType: row.integrationType,
    label: row.name,
    status,
    lastSuccessAt: row.lastSuccessAt,
    lastErrorAt: row.lastErrorAt,
    lastError: row.lastError,
    stoppedReason:
      status === 'disconnected'
        ? (extra.disconnected ?? null)
        : status === 'disabled'
          ? (row.disabledReason ?? 'switched off by an admin')
          : status === 'degraded'
            ? (extra.heldBack ?? null)
            : null,
    backlog: extra.backlog ?? null,
    ticketLevelSync: extra.ticketLevelSync ?? false,
  };
}
