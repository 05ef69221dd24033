import { randomUUID } from 'node:crypto';
import { type Database, integrationConfigs } from '@switchboard/database';
import type { KeyRing } from '../../common/config.ts';
import { type Credentials, credentialsHint, sealCredentials } from '../../common/credentials.ts';
import { recordAudit } from '../audit.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import type { IntegrationType } from './config-schemas.ts';
import { toIntegrationView } from './read-integrations.ts';
import {
  type CreateIntegrationInput,
  createIntegrationInput,
  type createIntegrationInputFor,
  type IntegrationView,
} from './schemas.ts';

/** Stores a new integration; its credentials are sealed before they reach the database. */
export async function createIntegration(
  db: Database,
  keys: KeyRing,
  scope: Scope,
  rawInput: CreateIntegrationInput,
  schema: ReturnType<typeof createIntegrationInputFor> = createIntegrationInput,
): Promise<IntegrationView> {
  const input = parseInput(schema, rawInput);
  // The id is chosen here because the credentials are sealed to it before the row exists.
  const id = randomUUID();
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(integrationConfigs)
      .values({
        id,
        organizationId: scope.organizationId,
        // Only types with a module parse (createIntegrationInput), and each module's type is a stored type.
        integrationType: input.integrationType as IntegrationType,
        name: input.name,
        isActive: input.isActive ?? true,
        config: input.config,
        credentials: input.credentials
          ? sealCredentials(keys, scope.organizationId, id, input.credentials as Credentials)
          : null,
        credentialsHint: input.credentials ? credentialsHint(input.credentials as Credentials) : null,
      })
      .returning();
    await recordAudit(tx, scope, {
      action: 'integration.created',
      entityType: 'integration',
      entityId: id,
      metadata: { integrationType: input.integrationType, name: input.name, credentialsSet: !!input.credentials },
    });
    return toIntegrationView(row!);
  });
}
