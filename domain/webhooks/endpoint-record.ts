// An endpoint is an integration_configs row of type `webhook`. This module is the one place that reads such a row:
// scoped to the organisation and the type (an id of another organisation's endpoint, or of a Slack integration,
// is a 404), opened and sealed with its credentials, and turned into the WebhookEndpoint view.
import { type Executor, integrationConfigs } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import type { KeyRing } from '../../common/config.ts';
import { credentialContext, sealCredentials } from '../../common/credentials.ts';
import { openJson } from '../../common/crypto/envelope.ts';
import { notFound } from '../../common/errors.ts';
import { maskSecret } from '../../common/webhooks/standard-webhooks.ts';

export { endpointName } from './url-visibility.ts';

import type { Scope } from '../scope.ts';
import {
  DEFAULT_MAX_CONCURRENCY,
  DEFAULT_RATE_LIMIT_PER_SECOND,
  type EndpointConfig,
  type EndpointCredentials,
  type WebhookEndpointView,
} from './schemas.ts';

export type EndpointRow = typeof integrationConfigs.$inferSelect;
export type EndpointHealth = WebhookEndpointView['health'];

export async function loadEndpointRow(
  tx: Executor,
  scope: Scope,
  endpointId: string,
  opts: { forUpdate?: boolean } = {},
): Promise<EndpointRow> {
  const query = tx
    .select()
    .from(integrationConfigs)
    .where(
      and(
        eq(integrationConfigs.id, endpointId),
        eq(integrationConfigs.organizationId, scope.organizationId),
        eq(integrationConfigs.integrationType, 'webhook'),
      ),
    );
  const [row] = opts.forUpdate ? await query.for('update') : await query;
  if (!row) throw notFound('webhook endpoint');
  return row;
}

/** Endpoints made through the generic integrations API before they had every field read as the defaults. */
export function endpointConfigOf(row: EndpointRow): EndpointConfig {
  const stored = (row.config ?? {}) as Partial<EndpointConfig>;
  return {
    url: stored.url ?? '',
    description: stored.description ?? '',
    eventTypes: stored.eventTypes ?? [],
    rateLimitPerSecond: stored.rateLimitPerSecond ?? DEFAULT_RATE_LIMIT_PER_SECOND,
    maxConcurrency: stored.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
    excludeInternalNotes: stored.excludeInternalNotes ?? false,
    headerNames: stored.headerNames ?? [],
  };
}

export function openEndpointCredentials(keys: KeyRing, row: EndpointRow): EndpointCredentials {
  if (!row.credentials) throw new Error(`webhook endpoint ${row.id} has no signing secret`);
  return openJson(keys, row.credentials, credentialContext(row.organizationId, row.id)) as EndpointCredentials;
}

/** The sealed envelope and the hint stored beside it, so reading an endpoint never needs to decrypt anything. */
export function sealEndpointCredentials(
  keys: KeyRing,
  organizationId: string,
  endpointId: string,
  c: EndpointCredentials,
) {
  return {
    credentials: sealCredentials(keys, organizationId, endpointId, c),
    credentialsHint: maskSecret(c.secret),
  };
}

export function toEndpointView(row: EndpointRow, health: EndpointHealth): WebhookEndpointView {
  const config = endpointConfigOf(row);
  return {
    id: row.id,
    url: config.url,
    description: config.description,
    eventTypes: config.eventTypes,
    enabled: row.isActive,
    disabledReason: row.disabledReason,
    rateLimitPerSecond: config.rateLimitPerSecond,
    maxConcurrency: config.maxConcurrency,
    excludeInternalNotes: config.excludeInternalNotes,
    headerNames: config.headerNames,
    secretHint: row.credentialsHint,
    health,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
