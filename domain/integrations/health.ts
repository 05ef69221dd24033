import type { integrationConfigs } from '@switchboard/database';
import type { IntegrationView } from './schemas.ts';

type HealthFields = Pick<
  typeof integrationConfigs.$inferSelect,
  'isActive' | 'disabledReason' | 'lastSuccessAt' | 'lastErrorAt' | 'lastError'
>;

/**
 * disabled: switched off by an admin, or by the system with a reason (e.g. too many failures);
 * failing: the latest outcome was an error; healthy: the latest outcome was a success;
 * unknown: it has not done anything yet.
 */
export function integrationHealth(row: HealthFields): IntegrationView['health'] {
  const status =
    !row.isActive || row.disabledReason
      ? 'disabled'
      : row.lastErrorAt && (!row.lastSuccessAt || row.lastErrorAt >= row.lastSuccessAt)
        ? 'failing'
        : row.lastSuccessAt
          ? 'healthy'
          : 'unknown';
  return {
    status,
    lastSuccessAt: row.lastSuccessAt?.toISOString() ?? null,
    lastErrorAt: row.lastErrorAt?.toISOString() ?? null,
    lastError: row.lastError,
    disabledReason: row.disabledReason,
  };
}
