// Attachments as the API shows them, the limits an organisation uploads under, and the reads every route shares.
// Another organisation's attachment is a 404, like a missing one; a deleted one is gone for everybody but its
// audit trail.
import { auditLog, type Executor, organizationSettings, ticketAttachments } from '@switchboard/database';
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { notFound } from '../../common/errors.ts';
import type { TicketEventPayload } from '../../common/ticket-events.ts';
import { z } from '../zod.ts';

export const attachmentSources = ['web', 'api', 'email', 'slack'] as const;
export type AttachmentSource = (typeof attachmentSources)[number];

export type AttachmentRow = typeof ticketAttachments.$inferSelect;

export const attachmentView = z
  .object({
    id: z.uuid(),
    ticketId: z.uuid(),
    fileName: z.string(),
    mimeType: z.string(),
    fileSize: z.number().int(),
    source: z.enum(attachmentSources),
    scanStatus: z.enum(['pending_scan', 'clean', 'infected', 'failed']),
    /** The virus found, for infected files. */
    scanSignature: z.string().nullable(),
    /** Why it failed for good. */
    failureReason: z.string().nullable(),
    /** Why the pipeline waits, and until when it tries again (clamd or the store unreachable). */
    waiting: z.object({ reason: z.string(), until: z.iso.datetime({ offset: true }).nullable() }).nullable(),
    hasThumbnail: z.boolean(),
    /** Raster images may be shown inline (lightbox); everything else is downloaded. */
    inline: z.boolean(),
    uploadedBy: z.object({ type: z.string(), id: z.string().nullable() }),
    uploadedAt: z.iso.datetime({ offset: true }),
    availableAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .openapi('Attachment');
export type AttachmentView = z.infer<typeof attachmentView>;

export function toAttachmentView(row: AttachmentRow): AttachmentView {
  return {
    id: row.id,
    ticketId: row.supportRequestId,
    fileName: row.fileName,
    mimeType: row.mimeType,
    fileSize: row.fileSize,
    source: row.source as AttachmentSource,
    scanStatus: row.scanStatus,
    scanSignature: row.scanSignature,
    failureReason: row.failureReason,
    waiting: row.waitingReason ? { reason: row.waitingReason, until: row.waitingUntil?.toISOString() ?? null } : null,
    hasThumbnail: row.thumbnailKey !== null,
    inline: row.raster,
    uploadedBy: { type: row.uploadedByActorType, id: row.uploadedByActorId },
    uploadedAt: row.uploadedAt.toISOString(),
    availableAt: row.availableAt?.toISOString() ?? null,
  };
}

/** What events say of an attachment. */
export function toAttachmentSnapshot(row: AttachmentRow): TicketEventPayload<'attachment.uploaded'>['attachment'] {
  return {
    id: row.id,
    fileName: row.fileName,
    mimeType: row.mimeType,
    fileSize: row.fileSize,
    source: row.source,
    scanStatus: row.scanStatus,
    uploadedBy: { type: row.uploadedByActorType, id: row.uploadedByActorId },
  };
}

/** A live (not deleted) attachment of the organisation, or a 404. */
export async function loadAttachment(db: Executor, organizationId: string, attachmentId: string) {
  const [row] = await db
    .select()
    .from(ticketAttachments)
    .where(
      and(
        eq(ticketAttachments.id, attachmentId),
        eq(ticketAttachments.organizationId, organizationId),
        isNull(ticketAttachments.deletedAt),
      ),
    );
  if (!row) throw notFound('attachment');
  return row;
}

export async function listTicketAttachments(db: Executor, organizationId: string, ticketId: string) {
  const rows = await db
    .select()
    .from(ticketAttachments)
    .where(
      and(
        eq(ticketAttachments.supportRequestId, ticketId),
        eq(ticketAttachments.organizationId, organizationId),
        isNull(ticketAttachments.deletedAt),
      ),
    )
    .orderBy(asc(ticketAttachments.uploadedAt), asc(ticketAttachments.id));
  return rows.map(toAttachmentView);
}

export type AttachmentLimits = { maxFileBytes: number; ticketQuotaBytes: number; orgQuotaBytes: number };

/** The organisation's own limits where it has set them, else the deployment's. */
export async function attachmentLimits(
  db: Executor,
  organizationId: string,
  defaults: AttachmentLimits,
): Promise<AttachmentLimits> {
  const [row] = await db
    .select()
    .from(organizationSettings)
    .where(eq(organizationSettings.organizationId, organizationId));
  return {
    maxFileBytes: row?.attachmentMaxFileBytes ?? defaults.maxFileBytes,
    ticketQuotaBytes: row?.attachmentTicketQuotaBytes ?? defaults.ticketQuotaBytes,
    orgQuotaBytes: row?.attachmentOrgQuotaBytes ?? defaults.orgQuotaBytes,
  };
}

/** Bytes held (or about to be, once scanned) by the ticket and the organisation: infected and deleted files free theirs. */
export async function storedBytes(
  db: Executor,
  organizationId: string,
  ticketId: string,
): Promise<{ ticket: number; organization: number }> {
  const [row] = await db
    .select({
      ticket: sql<string>`coalesce(sum(${ticketAttachments.fileSize}) filter (where ${ticketAttachments.supportRequestId} = ${ticketId}), 0)`,
      organization: sql<string>`coalesce(sum(${ticketAttachments.fileSize}), 0)`,
    })
    .from(ticketAttachments)
    .where(
      and(
        eq(ticketAttachments.organizationId, organizationId),
        isNull(ticketAttachments.deletedAt),
        inArray(ticketAttachments.scanStatus, ['pending_scan', 'clean']),
      ),
    );
  return { ticket: Number(row?.ticket ?? 0), organization: Number(row?.organization ?? 0) };
}

export const attachmentAuditEntry = z
  .object({
    action: z.string(),
    actor: z.object({ type: z.string(), id: z.string().nullable() }),
    at: z.iso.datetime({ offset: true }),
    metadata: z.record(z.string(), z.unknown()),
  })
  .openapi('AttachmentAuditEntry');

/** Everything that happened to one attachment, newest first: upload, scan result, downloads, delete. */
export async function attachmentAudit(db: Executor, organizationId: string, attachmentId: string) {
  const rows = await db
    .select()
    .from(auditLog)
    .where(
      and(
        eq(auditLog.organizationId, organizationId),
        eq(auditLog.entityType, 'attachment'),
        eq(auditLog.entityId, attachmentId),
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(500);
  return rows.map((row) => ({
    action: row.action,
    actor: { type: row.actorType, id: row.actorId },
    at: row.createdAt.toISOString(),
    metadata: row.metadata as Record<string, unknown>,
  }));
}
