// Attachments as the API shows them, the limits an organisation uploads under, and the reads every route shares.
// Another organisation's attachment is a 404, like a missing one; a deleted one is gone for everybody but its
// audit trail.
import { auditLog, type Database, type Executor, organizationSettings, ticketAttachments } from '@switchboard/database';
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { notFound, validationFailed } from '../../common/errors.ts';
import type { Scope } from '../../common/integration-contract.ts';
import type { TicketEventPayload } from '../../common/ticket-events.ts';
import { recordAudit } from '../audit.ts';
import { emitTicketEvent } from '../tickets/events.ts';
import { lockTicket, toTicketSnapshot } from '../tickets/ticket-record.ts';
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

/**
 * Marks an attachment deleted, with its `attachment.deleted` event and audit entry, under the ticket's lock; returns
 * the row so the caller removes its objects after the commit. A second delete (or one racing this) is a 404.
 */
export async function deleteAttachment(db: Database, scope: Scope, attachmentId: string): Promise<AttachmentRow> {
  return db.transaction(async (tx) => {
    const file = await loadAttachment(tx, scope.organizationId, attachmentId);
    const ticket = await lockTicket(tx, scope.organizationId, file.supportRequestId);
    const [row] = await tx
      .update(ticketAttachments)
      .set({ deletedAt: new Date() })
      .where(and(eq(ticketAttachments.id, file.id), isNull(ticketAttachments.deletedAt)))
      .returning();
    // Deleted by someone else between our read and our write: gone already, as a second delete sees it.
    if (!row) throw notFound('attachment');
    await emitTicketEvent(tx, scope, file.supportRequestId, 'attachment.deleted', {
      ticket: toTicketSnapshot(ticket),
      attachment: toAttachmentSnapshot(row),
    });
    await recordAudit(tx, scope, {
      action: 'attachment.deleted',
      entityType: 'attachment',
      entityId: file.id,
      metadata: { ticketId: file.supportRequestId, fileName: file.fileName },
    });
    return row;
  });
}

export type AttachmentLimitsChange = { [K in keyof AttachmentLimits]?: number | null };

/**
 * Sets the organisation's own limits (null: back to the deployment's), audited. An organisation may lower its limits,
 * not raise them past the deployment's: those bound the store, the staging disk, clamd's stream length and the
 * thumbnailer's memory, which all tenants share (422 names each field above its ceiling).
 */
export async function setAttachmentLimits(
  db: Database,
  scope: Scope,
  change: AttachmentLimitsChange,
  ceilings: AttachmentLimits,
): Promise<void> {
  const over = (['maxFileBytes', 'ticketQuotaBytes', 'orgQuotaBytes'] as const).filter(
    (field) => typeof change[field] === 'number' && change[field]! > ceilings[field],
  );
  if (over.length > 0)
    throw validationFailed(
      'a limit is above the deployment’s',
      over.map((field) => ({ path: `body.${field}`, message: `at most ${ceilings[field]} (the deployment's limit)` })),
    );
  const columns = {
    ...(change.maxFileBytes !== undefined ? { attachmentMaxFileBytes: change.maxFileBytes } : {}),
    ...(change.ticketQuotaBytes !== undefined ? { attachmentTicketQuotaBytes: change.ticketQuotaBytes } : {}),
    ...(change.orgQuotaBytes !== undefined ? { attachmentOrgQuotaBytes: change.orgQuotaBytes } : {}),
  };
  await db.transaction(async (tx) => {
    await tx
      .insert(organizationSettings)
      .values({ organizationId: scope.organizationId, ...columns })
      .onConflictDoUpdate({ target: organizationSettings.organizationId, set: { ...columns, updatedAt: new Date() } });
    await recordAudit(tx, scope, {
      action: 'files.limits_changed',
      entityType: 'organization',
      entityId: scope.organizationId,
      metadata: change,
    });
  });
}
