// Master key rotation for attachments (scripts/rotate-keys.ts): every file's and thumbnail's data key not yet
// wrapped by the active master key is re-wrapped with it, with a compare-and-set on the old envelope and an audit
// row, like the credentials' rotation. The objects in storage are never read.
import { auditLog, type Database, ticketAttachments } from '@switchboard/database';
import { and, eq, isNotNull, or, sql } from 'drizzle-orm';
import { thumbnailContext } from '../../activities/files/intake.ts';
import type { KeyRing } from '../../common/config.ts';
import { type FileKeyRotationReport, type FileKeyRow, rotateFileKeys } from '../../common/files/rotate-file-keys.ts';
import type { FileKeyEnvelope } from '../../common/files/sealed-stream.ts';

type Column = 'keyEnvelope' | 'thumbnailEnvelope';

export async function rotateAttachmentKeys(db: Database, keys: KeyRing): Promise<FileKeyRotationReport> {
  const rows = await db
    .select({
      id: ticketAttachments.id,
      organizationId: ticketAttachments.organizationId,
      keyEnvelope: ticketAttachments.keyEnvelope,
      thumbnailEnvelope: ticketAttachments.thumbnailEnvelope,
    })
    .from(ticketAttachments)
    .where(or(isNotNull(ticketAttachments.keyEnvelope), isNotNull(ticketAttachments.thumbnailEnvelope)));
  const listed: Array<FileKeyRow & { column: Column }> = [];
  for (const row of rows) {
    if (row.keyEnvelope)
      listed.push({ id: row.id, organizationId: row.organizationId, envelope: row.keyEnvelope, column: 'keyEnvelope' });
    if (row.thumbnailEnvelope)
      listed.push({
        id: row.id,
        organizationId: row.organizationId,
        envelope: row.thumbnailEnvelope,
        context: thumbnailContext(row.organizationId, row.id),
        column: 'thumbnailEnvelope',
      });
  }
  return rotateFileKeys(keys, listed, async (row, rewrapped: FileKeyEnvelope) => {
    const { column } = row as FileKeyRow & { column: Column };
    return db.transaction(async (tx) => {
      const updated = await tx
        .update(ticketAttachments)
        .set({ [column]: rewrapped })
        .where(
          and(
            eq(ticketAttachments.id, row.id),
            sql`${ticketAttachments[column]} = ${JSON.stringify(row.envelope)}::jsonb`,
          ),
        )
        .returning({ id: ticketAttachments.id });
      if (updated.length === 0) return false;
      await tx.insert(auditLog).values({
        organizationId: row.organizationId,
        actorType: 'system',
        actorId: 'rotate-keys',
        action: 'attachment.key_rewrapped',
        entityType: 'attachment',
        entityId: row.id,
        metadata: {
          which: column === 'keyEnvelope' ? 'file' : 'thumbnail',
          fromKeyId: row.envelope.kid,
          toKeyId: keys.activeKeyId,
        },
      });
      return true;
    });
  });
}
