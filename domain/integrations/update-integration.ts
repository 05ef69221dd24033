import { isDeepStrictEqual } from 'node:util';
import { type Database, integrationConfigs } from '@switchboard/database';
import { and, eq, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { ZodType } from 'zod';
import type { KeyRing } from '../../common/config.ts';
import { type Credentials, credentialsHint, openCredentials, sealCredentials } from '../../common/credentials.ts';
import { conflict, notFound, validationFailed, zodDetails } from '../../common/errors.ts';
import type { IntegrationDefinition } from '../../common/integration-contract.ts';
import { integrations } from '../../packages/integrations/index.ts';
import { recordAudit } from '../audit.ts';
import { applyMergePatch } from '../merge-patch.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { type IntegrationRow, rateLimitedLinkCounts, toIntegrationView } from './read-integrations.ts';
import { type IntegrationView, type UpdateIntegrationInput, updateIntegrationInput } from './schemas.ts';

/**
 * Renames, switches on/off, changes the config with a JSON Merge Patch (RFC 7396: null removes a key, objects
 * merge, arrays replace; the merged result is checked against the integration's own type, which never changes)
 * or replaces/removes the credentials. Switching an integration back on clears the
 * reason the system disabled it for.
 */
export async function updateIntegration(
  db: Database,
  keys: KeyRing,
  scope: Scope,
  integrationId: string,
  rawInput: UpdateIntegrationInput,
  definitions: readonly IntegrationDefinition[] = integrations,
): Promise<IntegrationView> {
  const input = parseInput(updateIntegrationInput, rawInput);
  return db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(integrationConfigs)
      .where(and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, scope.organizationId)))
      .for('update');
    if (!current) throw notFound('integration');
    const definition = definitions.find((d) => d.type === current.integrationType);
    if (!definition) throw conflict(`no integration module serves type ${current.integrationType}: it cannot change`);
    const config =
      input.config === undefined
        ? undefined
        : parseTyped(definition.configSchema, applyMergePatch(current.config, input.config), 'config');
    // A module whose credentials are several independent secrets (a mailbox's IMAP and SMTP passwords, its DKIM
    // key) takes them as a merge patch: changing one must not drop the others, which the admin cannot see to re-enter.
    const patchOf = (given: Record<string, unknown>) =>
      definition.credentialsUpdate === 'merge' && current.credentials
        ? applyMergePatch(openCredentials(keys, scope.organizationId, integrationId, current.credentials) ?? {}, given)
        : given;
    const credentials =
      input.credentials == null
        ? input.credentials
        : (parseTyped(
            definition.credentialsSchema,
            patchOf(input.credentials as Record<string, unknown>),
            'credentials',
          ) as Credentials);

    const set: PgUpdateSetSource<typeof integrationConfigs> = {};
    const changed: string[] = [];
    if (input.name !== undefined && input.name !== current.name) {
      set.name = input.name;
      changed.push('name');
    }
    if (input.isActive !== undefined && input.isActive !== current.isActive) {
      set.isActive = input.isActive;
      if (input.isActive) set.disabledReason = null;
      changed.push('isActive');
    }
    if (config !== undefined && !isDeepStrictEqual(config, current.config)) {
      set.config = config;
      changed.push('config');
    }
    if (credentials !== undefined && !(credentials === null && current.credentials === null)) {
      set.credentials = credentials && sealCredentials(keys, scope.organizationId, integrationId, credentials);
      set.credentialsHint = credentials && credentialsHint(credentials);
      changed.push('credentials');
    }
    const waiting = (await rateLimitedLinkCounts(tx, scope.organizationId, integrationId)).get(integrationId) ?? 0;
    if (changed.length === 0) return toIntegrationView(current, waiting);

    const [updated] = await tx
      .update(integrationConfigs)
      .set({ ...set, updatedAt: sql`now()` })
      .where(eq(integrationConfigs.id, integrationId))
      .returning();
    await recordAudit(tx, scope, {
      action: 'integration.updated',
      entityType: 'integration',
      entityId: integrationId,
      metadata: { changed, ...configChange(current, set) },
    });
    return toIntegrationView(updated!, waiting);
  });
}

function parseTyped(schema: ZodType, value: unknown, field: 'config' | 'credentials') {
  const result = schema.safeParse(value);
  if (!result.success) {
    const details = zodDetails(result.error).map((d) => ({
      path: d.path === '(root)' ? field : `${field}.${d.path}`,
      message: d.message,
    }));
    throw validationFailed(`invalid ${field}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
  }
  return result.data;
}

/** Config is not secret, so the audit row keeps both versions; credentials are only ever "changed". */
function configChange(current: IntegrationRow, set: PgUpdateSetSource<typeof integrationConfigs>) {
  return set.config === undefined ? {} : { config: { from: current.config, to: set.config } };
}
