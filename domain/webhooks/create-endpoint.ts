import { randomUUID } from 'node:crypto';
import { type Database, integrationConfigs } from '@switchboard/database';
import type { KeyRing } from '../../common/config.ts';
import { generateSecret } from '../../common/webhooks/standard-webhooks.ts';
import { recordAudit } from '../audit.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { assertEndpointAllowed, type EndpointPolicy } from './endpoint-policy.ts';
import { endpointName, sealEndpointCredentials, toEndpointView } from './endpoint-record.ts';
import { recordEndpointEvent } from './integration-events.ts';
import {
  type CreateEndpointInput,
  createEndpointInput,
  DEFAULT_MAX_CONCURRENCY,
  DEFAULT_RATE_LIMIT_PER_SECOND,
  type EndpointConfig,
  type WebhookEndpointView,
} from './schemas.ts';
import { maskWebhookUrl } from './url-visibility.ts';

/** What endpoint writes need besides the database: the key ring to seal secrets, the URL policy to check URLs. */
export type EndpointSettings = { keys: KeyRing; policy: EndpointPolicy };

export type CreatedEndpoint = { endpoint: WebhookEndpointView; secret: string };

/**
 * Stores a new endpoint with a freshly generated signing secret. The secret is returned here once; afterwards only
 * its masked hint is, until the next rotation.
 */
export async function createEndpoint(
  db: Database,
  settings: EndpointSettings,
  scope: Scope,
  rawInput: CreateEndpointInput,
): Promise<CreatedEndpoint> {
  const input = parseInput(createEndpointInput, rawInput);
  assertEndpointAllowed(settings.policy, input);
  const id = randomUUID();
  const secret = generateSecret();
  const config: EndpointConfig = {
    url: input.url,
    description: input.description ?? '',
    eventTypes: input.eventTypes,
    rateLimitPerSecond: input.rateLimitPerSecond ?? DEFAULT_RATE_LIMIT_PER_SECOND,
    maxConcurrency: input.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
    excludeInternalNotes: input.excludeInternalNotes ?? false,
    headerNames: Object.keys(input.headers ?? {}),
  };
  const credentials = {
    secret,
    ...(input.headers && Object.keys(input.headers).length ? { headers: input.headers } : {}),
  };
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(integrationConfigs)
      .values({
        id,
        organizationId: scope.organizationId,
        integrationType: 'webhook',
        name: endpointName(config),
        isActive: input.enabled ?? true,
        config,
        ...sealEndpointCredentials(settings.keys, scope.organizationId, id, credentials),
      })
      .returning();
    await recordAudit(tx, scope, {
      action: 'integration.created',
      entityType: 'integration',
      entityId: id,
      metadata: {
        integrationType: 'webhook',
        url: maskWebhookUrl(config.url),
        eventTypes: config.eventTypes,
        headerNames: config.headerNames,
      },
    });
    await recordEndpointEvent(tx, scope, id, 'endpoint.created', { url: maskWebhookUrl(config.url) });
    const endpoint = toEndpointView(row!, {
      status: row!.isActive ? 'unknown' : 'disabled',
      successRate24h: null,
      lastAttemptAt: null,
      lastSuccessAt: null,
      lastError: null,
    });
    return { endpoint, secret };
  });
}
