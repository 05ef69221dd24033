import { type Database, integrationConfigs } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { notFound } from '../../common/errors.ts';
import { recordAudit } from '../audit.ts';
import type { Scope } from '../scope.ts';

/** Deletes the integration and, with it (cascade), its sync records and sealed credentials. */
export async function deleteIntegration(db: Database, scope: Scope, integrationId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [deleted] = await tx
      .delete(integrationConfigs)
      .where(and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, scope.organizationId)))
      .returning({ integrationType: integrationConfigs.integrationType, name: integrationConfigs.name });
    if (!deleted) throw notFound('integration');
    await recordAudit(tx, scope, {
      action: 'integration.deleted',
      entityType: 'integration',
      entityId: integrationId,
      metadata: deleted,
    });
  });
}
