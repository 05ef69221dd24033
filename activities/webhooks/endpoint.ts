// An endpoint as the delivery code needs it: its settings, its signing keys (decrypted here, kept in memory only
// for the batch) and the organisation's retry and disabling policy.
import { type CredentialEnvelope, type Database, organizationSettings } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import type { KeyRing } from '../../common/config.ts';
import { openCredentials } from '../../common/credentials.ts';
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

function deliveryEndpoint(
  row: { id: string; config: unknown; isActive: boolean; lastSuccessAt: Date | null },
  organizationId: string,
  stored: Record<string, unknown> | null,
): DeliveryEndpoint {
  const config = (row.config ?? {}) as EndpointConfigFields;
  const credentials = (stored ?? {}) as WebhookCredentials;
  if (typeof credentials.secret !== 'string') throw new Error(`webhook endpoint ${row.id} has no signing secret`);
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

/** What a batch starts from: its endpoint (null when deleted), the version it was read at, and the policy. */
export type BatchSetup = {
  endpoint: DeliveryEndpoint | null;
  version: string | null;
  policy: DeliveryPolicy;
  /** Deliveries due when the batch started, counted up to loadBatchSetup's `dueLimit`. */
  due: number;
};

/**
 * Everything a batch needs before its first round, in one round trip (at 100 endpoints a batch of a burst sends
 * two or three rounds, and five setup statements were as many round trips as its rounds): the endpoint and its
 * sealed credentials, their version (`updated_at`, read in the same snapshot, so a listening batch compares later
 * reads with exactly the settings it sends with), the organisation's retry policy, and the endpoint's listener row
 * taken over by this batch: its `taken_at`, which answers every wake sent before it (a batch that does not listen,
 * `owner` null, writes that alone), and, when `owner` is given, the row itself, not listening yet. Taking the row
 * waits for every fan-out that holds it `FOR SHARE` (they saw an earlier batch listening, or a wake not yet
 * answered); once this statement returns they have committed, so the batch's first claim, a later statement, sees
 * their deliveries. A deleted endpoint (or one of another organisation or type) takes no row.
 *
 * It also counts the deliveries due now, up to `dueLimit`: the batch sizes its first rounds' concurrency to that
 * backlog (deliver-batch.ts). A hint only: this statement's snapshot predates the fan-outs it waited for.
 *
 * Planned on every execution (unnamed), like the round statement: a plan cached per connection while
 * webhook_deliveries was small kept its sequential scan for the due count as the table grew (until the next ANALYZE).
 */
const SETUP_STATEMENT = `
  with c as (
    select id, config, is_active, last_success_at, credentials, updated_at::text as version
    from integration_configs
    where id = $1 and organization_id = $2 and integration_type = 'webhook'),
  owned as (
    insert into webhook_endpoint_listeners (endpoint_id, owner, listening_until, taken_at)
    select id, $3::text, null, clock_timestamp() from c
    on conflict (endpoint_id) do update
      set owner = coalesce(excluded.owner, webhook_endpoint_listeners.owner),
        listening_until = case when excluded.owner is null then webhook_endpoint_listeners.listening_until end,
        taken_at = excluded.taken_at
    returning endpoint_id),
  s as (
    select webhook_retry_schedule_ms, webhook_failure_disable_after_ms
    from organization_settings where organization_id = $2)
  select c.id, c.config, c.is_active, c.last_success_at, c.credentials, c.version,
    s.webhook_retry_schedule_ms, s.webhook_failure_disable_after_ms, (select count(*) from owned)::int as owned,
    (select count(*) from (select 1 from webhook_deliveries d
      where d.endpoint_id = $1 and d.organization_id = $2 and d.status = 'pending'
        and d.next_attempt_at <= now() and (d.lease_until is null or d.lease_until < now())
      limit $4) due)::int as due
  from (select 1) one left join c on true left join s on true`;

export async function loadBatchSetup(
  db: Database,
  credentialKeys: KeyRing,
  organizationId: string,
  endpointId: string,
  owner: string | null,
  dueLimit = 0,
): Promise<BatchSetup> {
  const result = await db.$client.query<{
    id: string | null;
    config: unknown;
    is_active: boolean | null;
    last_success_at: Date | null;
    credentials: CredentialEnvelope | null;
    version: string | null;
    webhook_retry_schedule_ms: number[] | null;
    webhook_failure_disable_after_ms: string | null;
    due: number;
  }>({ text: SETUP_STATEMENT, values: [endpointId, organizationId, owner, dueLimit] });
  const row = result.rows[0]!;
  const policy = deliveryPolicy({
    webhookRetryScheduleMs: row.webhook_retry_schedule_ms,
    webhookFailureDisableAfterMs:
      row.webhook_failure_disable_after_ms === null ? null : Number(row.webhook_failure_disable_after_ms),
  });
  if (row.id === null) return { endpoint: null, version: null, policy, due: 0 };
  const endpoint = deliveryEndpoint(
    { id: row.id, config: row.config, isActive: row.is_active === true, lastSuccessAt: row.last_success_at },
    organizationId,
    openCredentials(credentialKeys, organizationId, row.id, row.credentials),
  );
  return { endpoint, version: row.version, policy, due: row.due };
}

export type DeliveryPolicy = { retryDelaysMs: readonly number[]; failureDisableAfterMs: number };

export async function loadDeliveryPolicy(db: Database, organizationId: string): Promise<DeliveryPolicy> {
  const [row] = await db
    .select()
    .from(organizationSettings)
    .where(eq(organizationSettings.organizationId, organizationId));
  return deliveryPolicy(row);
}

function deliveryPolicy(
  row: { webhookRetryScheduleMs: number[] | null; webhookFailureDisableAfterMs: number | null } | undefined,
): DeliveryPolicy {
  const schedule = row?.webhookRetryScheduleMs;
  return {
    retryDelaysMs: schedule && schedule.length > 0 ? schedule : DEFAULT_RETRY_DELAYS_MS,
    failureDisableAfterMs: row?.webhookFailureDisableAfterMs ?? DEFAULT_FAILURE_DISABLE_AFTER_MS,
  };
}
