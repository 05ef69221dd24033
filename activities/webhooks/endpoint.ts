// An endpoint as the delivery code needs it: its settings, its signing keys (decrypted here, kept in memory only
// for the batch) and the organisation's retry and disabling policy.
import { type Database, integrationConfigs, organizationSettings } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import type { KeyRing } from '../../common/config.ts';
import { loadIntegrationCredentials } from '../../common/credentials.ts';
import {
  DEFAULT_MAX_CONCURRENCY,
  DEFAULT_RATE_LIMIT_PER_SECOND,
  MAX_CONCURRENCY,
  MAX_RATE_LIMIT_PER_SECOND,
} from '../../common/webhooks/endpoint-limits.ts';
import { DEFAULT_RETRY_DELAYS_MS } from '../../common/webhooks/retry-schedule.ts';
import type { SigningKeys } from '../../common/webhooks/standard-webhooks.ts';

/** An endpoint whose every attempt has failed for this long is disabled. */
export const DEFAULT_FAILURE_DISABLE_AFTER_MS = 5 * 24 * 60 * 60 * 1000;

export type DeliveryEndpoint = {
  id: string;
  organizationId: string;
  url: string;
  enabled: boolean;
  rateLimitPerSecond: number;
  maxConcurrency: number;
  lastSuccessAt: Date | null;
  keys: SigningKeys;
  headers: Record<string, string>;
};

export type EndpointConfigFields = {
  url?: unknown;
  eventTypes?: unknown;
  rateLimitPerSecond?: unknown;
  maxConcurrency?: unknown;
};

/** Stored credentials of a webhook endpoint (see the contract in domain/integrations/config-schemas.ts). */
type WebhookCredentials = {
  secret?: unknown;
  previousSecret?: unknown;
  previousSecretValidUntil?: unknown;
  headers?: unknown;
};

export function subscribedTypes(config: EndpointConfigFields): string[] {
  return Array.isArray(config.eventTypes) ? config.eventTypes.filter((t): t is string => typeof t === 'string') : [];
}

function boundedInt(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}

/** The endpoint, or null when it no longer exists in this organisation (deleted: its workflow should end). */
export async function loadDeliveryEndpoint(
  db: Database,
  credentialKeys: KeyRing,
  organizationId: string,
  endpointId: string,
): Promise<DeliveryEndpoint | null> {
  const [row] = await db
    .select()
    .from(integrationConfigs)
    .where(
      and(
        eq(integrationConfigs.id, endpointId),
        eq(integrationConfigs.organizationId, organizationId),
        eq(integrationConfigs.integrationType, 'webhook'),
      ),
    );
  if (!row) return null;
  const config = row.config as EndpointConfigFields;
  const credentials = ((await loadIntegrationCredentials(db, credentialKeys, organizationId, endpointId)) ??
    {}) as WebhookCredentials;
  if (typeof credentials.secret !== 'string') throw new Error(`webhook endpoint ${endpointId} has no signing secret`);
  const validUntil =
    typeof credentials.previousSecretValidUntil === 'string' ? Date.parse(credentials.previousSecretValidUntil) : NaN;
  const keys: SigningKeys = {
    current: credentials.secret,
    ...(typeof credentials.previousSecret === 'string' && !Number.isNaN(validUntil)
      ? { previous: { secret: credentials.previousSecret, validUntil } }
      : {}),
  };
  const headers: Record<string, string> = {};
  if (credentials.headers && typeof credentials.headers === 'object') {
    for (const [name, value] of Object.entries(credentials.headers))
      if (typeof value === 'string') headers[name] = value;
  }
  return {
    id: row.id,
    organizationId,
    url: String(config.url ?? ''),
    enabled: row.isActive,
    rateLimitPerSecond: boundedInt(
      config.rateLimitPerSecond,
      1,
      MAX_RATE_LIMIT_PER_SECOND,
      DEFAULT_RATE_LIMIT_PER_SECOND,
    ),
    maxConcurrency: boundedInt(config.maxConcurrency, 1, MAX_CONCURRENCY, DEFAULT_MAX_CONCURRENCY),
    lastSuccessAt: row.lastSuccessAt,
    keys,
    headers,
  };
}

export type DeliveryPolicy = { retryDelaysMs: readonly number[]; failureDisableAfterMs: number };

export async function loadDeliveryPolicy(db: Database, organizationId: string): Promise<DeliveryPolicy> {
  const [row] = await db
    .select()
    .from(organizationSettings)
    .where(eq(organizationSettings.organizationId, organizationId));
  const schedule = row?.webhookRetryScheduleMs;
  return {
    retryDelaysMs: schedule && schedule.length > 0 ? schedule : DEFAULT_RETRY_DELAYS_MS,
    failureDisableAfterMs: row?.webhookFailureDisableAfterMs ?? DEFAULT_FAILURE_DISABLE_AFTER_MS,
  };
}
