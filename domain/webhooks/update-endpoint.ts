import { isDeepStrictEqual } from 'node:util';
import { type Database, integrationConfigs } from '@switchboard/database';
import { eq, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { recordAudit } from '../audit.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import type { EndpointSettings } from './create-endpoint.ts';
import { assertEndpointAllowed } from './endpoint-policy.ts';
import {
  endpointConfigOf,
  endpointName,
  loadEndpointRow,
  openEndpointCredentials,
  sealEndpointCredentials,
} from './endpoint-record.ts';
import { recordEndpointEvent } from './integration-events.ts';
import { withHealth } from './read-endpoints.ts';
import {
  type EndpointConfig,
  type UpdateEndpointInput,
  updateEndpointInput,
  type WebhookEndpointView,
} from './schemas.ts';
import { maskWebhookUrl } from './url-visibility.ts';

/**
 * Changes what was given and nothing else. `enabled: true` also clears the reason the system disabled the endpoint
 * for; switching it on or off is recorded as an endpoint event. New headers replace the old set, re-sealed with the
 * signing secret they share an envelope with.
 */
export async function updateEndpoint(
  db: Database,
  settings: EndpointSettings,
  scope: Scope,
  endpointId: string,
  rawInput: UpdateEndpointInput,
): Promise<WebhookEndpointView> {
  const input = parseInput(updateEndpointInput, rawInput);
  assertEndpointAllowed(settings.policy, input);
  const updated = await db.transaction(async (tx) => {
    const current = await loadEndpointRow(tx, scope, endpointId, { forUpdate: true });
    const before = endpointConfigOf(current);
    const config: EndpointConfig = {
      url: input.url ?? before.url,
      description: input.description ?? before.description,
      eventTypes: input.eventTypes ?? before.eventTypes,
      rateLimitPerSecond: input.rateLimitPerSecond ?? before.rateLimitPerSecond,
      maxConcurrency: input.maxConcurrency ?? before.maxConcurrency,
      excludeInternalNotes: input.excludeInternalNotes ?? before.excludeInternalNotes,
      headerNames: input.headers ? Object.keys(input.headers) : before.headerNames,
    };
    const set: PgUpdateSetSource<typeof integrationConfigs> = {};
    const changed: string[] = [];
    if (!isDeepStrictEqual(current.config, config)) {
      set.config = config;
      set.name = endpointName(config);
      changed.push(
        ...(Object.keys(config) as Array<keyof EndpointConfig>).filter((k) => !isDeepStrictEqual(config[k], before[k])),
      );
    }
    if (input.headers) {
      const { headers: _old, ...rest } = openEndpointCredentials(settings.keys, current);
      const credentials = Object.keys(input.headers).length ? { ...rest, headers: input.headers } : rest;
      Object.assign(set, sealEndpointCredentials(settings.keys, scope.organizationId, endpointId, credentials));
      if (!changed.includes('headerNames')) changed.push('headerNames');
    }
    const switchedOn = input.enabled === true && (!current.isActive || current.disabledReason !== null);
    const switchedOff = input.enabled === false && current.isActive;
    if (switchedOn) set.disabledReason = null;
    if (switchedOn || switchedOff) {
      set.isActive = input.enabled;
      changed.push('enabled');
    }
    if (Object.keys(set).length === 0) return current;

    const [row] = await tx
      .update(integrationConfigs)
      .set({ ...set, updatedAt: sql`now()` })
      .where(eq(integrationConfigs.id, endpointId))
      .returning();
    await recordAudit(tx, scope, {
      action: 'integration.updated',
      entityType: 'integration',
      entityId: endpointId,
      // Header names are not secret; their values are, so they are only ever "changed".
      metadata: {
        changed,
        ...(set.config
          ? {
              config: {
                from: { ...before, url: maskWebhookUrl(before.url) },
                to: { ...config, url: maskWebhookUrl(config.url) },
              },
            }
          : {}),
      },
    });
    if (switchedOn)
      await recordEndpointEvent(tx, scope, endpointId, 'endpoint.enabled', {
        previousDisabledReason: current.disabledReason,
      });
    if (switchedOff)
      await recordEndpointEvent(tx, scope, endpointId, 'endpoint.disabled', { reason: 'disabled by an admin' });
    return row!;
  });
  const [view] = await withHealth(db, [updated]);
  return view!;
}
