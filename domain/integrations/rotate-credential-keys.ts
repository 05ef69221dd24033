// Master key rotation: after a new key is added to SWITCHBOARD_MASTER_KEYS and made active, every
// stored data key is re-wrapped with it, so the old master key can then be removed from the ring.
// Payloads stay as they are (the data keys do not change). Safe to run again, or while the API runs.
import { auditLog, type CredentialEnvelope, type Database, integrationConfigs } from '@switchboard/database';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { KeyRing } from '../../common/config.ts';
import { credentialContext } from '../../common/credentials.ts';
import { EnvelopeError, rewrapEnvelope } from '../../common/crypto/envelope.ts';

export type RotationReport = {
  /** Records with credentials, in total. */
  scanned: number;
  rewrapped: number;
  /** Already wrapped with the active key (what every record reports on a second run). */
  alreadyCurrent: number;
  /** Changed by someone else while we worked: their write used the active key anyway. */
  changedMeanwhile: number;
  /** Could not be opened (their key id is missing from the ring, or the envelope is damaged). */
  failed: Array<{ id: string; organizationId: string; reason: string }>;
};

export async function rotateCredentialKeys(db: Database, keys: KeyRing): Promise<RotationReport> {
  const report: RotationReport = { scanned: 0, rewrapped: 0, alreadyCurrent: 0, changedMeanwhile: 0, failed: [] };
  const rows = await db
    .select({
      id: integrationConfigs.id,
      organizationId: integrationConfigs.organizationId,
      credentials: integrationConfigs.credentials,
    })
    .from(integrationConfigs)
    .where(isNotNull(integrationConfigs.credentials));
  for (const row of rows) {
    report.scanned++;
    const envelope = row.credentials as CredentialEnvelope;
    if (envelope.kid === keys.activeKeyId) {
      report.alreadyCurrent++;
      continue;
    }
    let rewrapped: CredentialEnvelope;
    try {
      rewrapped = rewrapEnvelope(keys, envelope, credentialContext(row.organizationId, row.id));
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      report.failed.push({ id: row.id, organizationId: row.organizationId, reason: error.message });
      continue;
    }
    const updated = await db.transaction(async (tx) => {
      // Compare-and-set on the whole envelope: a credentials change made since we read the row wins.
      const result = await tx
        .update(integrationConfigs)
        .set({ credentials: rewrapped })
        .where(
          and(
            eq(integrationConfigs.id, row.id),
            sql`${integrationConfigs.credentials} = ${JSON.stringify(envelope)}::jsonb`,
          ),
        )
        .returning({ id: integrationConfigs.id });
      if (result.length === 0) return false;
      await tx.insert(auditLog).values({
        organizationId: row.organizationId,
        actorType: 'system',
        actorId: 'rotate-keys',
        action: 'integration.credentials_rewrapped',
        entityType: 'integration',
        entityId: row.id,
        metadata: { fromKeyId: envelope.kid, toKeyId: keys.activeKeyId },
      });
      return true;
    });
    if (updated) report.rewrapped++;
    else report.changedMeanwhile++;
  }
  return report;
}
