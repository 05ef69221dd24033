import type { integrationConfigs } from '@switchboard/database';
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
