import { type Database, integrationConfigs } from '@switchboard/database';
import { eq, sql } from 'drizzle-orm';
import { generateSecret } from '../../common/webhooks/standard-webhooks.ts';
import { recordAudit } from '../audit.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import type { EndpointSettings } from './create-endpoint.ts';
import { loadEndpointRow, openEndpointCredentials, sealEndpointCredentials } from './endpoint-record.ts';
import { recordEndpointEvent } from './integration-events.ts';
import { type RotateSecretInput, rotateSecretInput } from './schemas.ts';

const HOUR_MS = 60 * 60 * 1000;
export const DEFAULT_OVERLAP_HOURS = 24;

export type RotatedSecret = { secret: string; previousSecretValidUntil: string | null };

/**
 * Replaces the signing secret. For `overlapHours` (default 24) deliveries carry a signature with the old secret
 * too, so receivers can switch over without dropping a message; a secret replaced by an earlier rotation stops
 * being used now. The new secret is returned here once.
 */
export async function rotateEndpointSecret(
  db: Database,
  settings: EndpointSettings,
  scope: Scope,
  endpointId: string,
  rawInput: RotateSecretInput,
  now = new Date(),
): Promise<RotatedSecret> {
  const input = parseInput(rotateSecretInput, rawInput);
  const overlapMs = Math.round((input.overlapHours ?? DEFAULT_OVERLAP_HOURS) * HOUR_MS);
  return db.transaction(async (tx) => {
    const current = await loadEndpointRow(tx, scope, endpointId, { forUpdate: true });
    const {
      secret: oldSecret,
      previousSecret: _p,
      previousSecretValidUntil: _u,
      ...rest
    } = openEndpointCredentials(settings.keys, current);
    const secret = generateSecret();
    const validUntil = overlapMs > 0 ? new Date(now.getTime() + overlapMs).toISOString() : null;
    const credentials = validUntil
      ? { ...rest, secret, previousSecret: oldSecret, previousSecretValidUntil: validUntil }
      : { ...rest, secret };
    await tx
      .update(integrationConfigs)
      .set({
        ...sealEndpointCredentials(settings.keys, scope.organizationId, endpointId, credentials),
        updatedAt: sql`now()`,
      })
      .where(eq(integrationConfigs.id, endpointId));
    await recordAudit(tx, scope, {
      action: 'integration.secret_rotated',
      entityType: 'integration',
      entityId: endpointId,
      metadata: { previousSecretValidUntil: validUntil },
    });
    await recordEndpointEvent(tx, scope, endpointId, 'secret.rotated', { previousSecretValidUntil: validUntil });
    return { secret, previousSecretValidUntil: validUntil };
  });
}
