// The upload pipeline's activities (workflows/upload.ts): each reads the attachment row, does one external thing
// (clamd, the store, the thumbnail renderer) and writes the outcome only if the row is still where the step expects
// it, so a retried step never emits an event twice. Plaintext exists only in memory while it streams from the store
// through the decrypter into clamd or the renderer.
import { type Database, ticketAttachments } from '@switchboard/database';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { KeyRing } from '../../common/config.ts';
import {
  decryptStream,
  encryptStream,
  FileCryptoError,
  newFileKey,
  openFileKey,
} from '../../common/files/sealed-stream.ts';
import type { Scope } from '../../common/integration-contract.ts';
import { recordAudit } from '../../domain/audit.ts';
import { type AttachmentRow, toAttachmentSnapshot } from '../../domain/files/attachments.ts';
import { emitTicketEvent } from '../../domain/tickets/events.ts';
import { lockTicket, toTicketSnapshot } from '../../domain/tickets/ticket-record.ts';
import type { UploadInput, UploadOutcome } from '../../workflows/upload-contract.ts';
import { ClamdScanError, ScannerUnavailableError, scanStream } from './clamd.ts';
import { attachmentContext, thumbnailContext, thumbnailKey } from './intake.ts';
import { BlobNotFoundError, BlobStorePermanentError, BlobStoreUnavailableError } from './storage/blob-store.ts';
import type { StoreDirectory } from './stores.ts';
import { sweepAllStores } from './sweep.ts';
import { renderThumbnail, ThumbnailRefusedError } from './thumbnail.ts';

export type FilePipelineDeps = {
  db: Database;
  credentialKeys: KeyRing;
  stores: StoreDirectory;
  clamd: { host: string; port: number; timeoutMs: number };
  maxImagePixels: number;
};

export type ScanResult =
  /**
   * `settled`: the workflow asked (`settle`), the file was scanned as it was uploaded and needs no thumbnail, so the
   * scan step made it available itself (how that ended); the workflow has nothing left to do. Absent otherwise.
   */
  { verdict: 'clean'; settled?: UploadOutcome } | { verdict: 'infected'; signature: string } | { verdict: 'gone' };

/** The pipeline's own system actor: events and audit rows of the scan are the system's, not the uploader's. */
const systemScope = (organizationId: string): Scope => ({
  organizationId,
  actor: { type: 'system', id: 'upload-pipeline' },
  userId: null,
});

export function createFilePipelineActivities(deps: FilePipelineDeps) {
  const { db } = deps;

  async function row(input: UploadInput): Promise<AttachmentRow | undefined> {
    const [found] = await db
      .select()
      .from(ticketAttachments)
      .where(
        and(eq(ticketAttachments.id, input.attachmentId), eq(ticketAttachments.organizationId, input.organizationId)),
      );
    return found;
  }

  /** The file's plaintext as a stream (decrypted as it is read), for clamd and the renderer. */
  async function plaintext(file: AttachmentRow) {
    if (!file.keyEnvelope) throw permanent('the file has no key (it was never stored completely)');
    const context = attachmentContext(file.organizationId, file.id);
    const dataKey = openFileKey(deps.credentialKeys, file.keyEnvelope, context);
    const store = await deps.stores.of(file);
    const sealed = await store.get(file.storageKey);
    const decrypt = decryptStream(dataKey, file.keyEnvelope, context, { plainSize: file.fileSize });
    // The store's stream (a file handle, a socket) goes with the decrypter, however it ends.
    decrypt.once('close', () => {
      dataKey.fill(0);
      sealed.destroy();
    });
    sealed.once('error', (error: Error) => decrypt.destroy(error));
    return sealed.pipe(decrypt);
  }

  /**
   * Runs an external step, heartbeating while it runs (so a dead worker is noticed within the heartbeat timeout);
   * what is worth waiting for is recorded on the row, with when the next try comes.
   */
  async function waitingOut<T>(input: UploadInput, step: () => Promise<T>): Promise<T> {
    const context = Context.current();
    const heartbeat = setInterval(() => context.heartbeat(), 2_000);
    try {
      const result = await step();
      await db
        .update(ticketAttachments)
        .set({ waitingReason: null, waitingUntil: null })
        .where(
          and(
            eq(ticketAttachments.id, input.attachmentId),
            eq(ticketAttachments.organizationId, input.organizationId),
            isNotNull(ticketAttachments.waitingReason),
          ),
        );
      return result;
    } catch (error) {
      const reason = waitReason(error);
      if (reason === undefined) throw classify(error);
      const { attempt } = Context.current().info;
      // The workflow's policy for these steps: 1 s, doubling, at most a minute.
      const nextInMs = Math.min(1_000 * 2 ** (attempt - 1), 60_000);
      await db
        .update(ticketAttachments)
        .set({ waitingReason: reason, waitingUntil: new Date(Date.now() + nextInMs) })
        .where(
          and(eq(ticketAttachments.id, input.attachmentId), eq(ticketAttachments.organizationId, input.organizationId)),
        );
      throw error;
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Clean and served from now on, with its event and audit entry; how the file ended if it was not pending. */
  async function makeAvailable(input: UploadInput): Promise<UploadOutcome> {
    return db.transaction(async (tx) => {
      const ticket = await lockTicket(tx, input.organizationId, input.ticketId);
      const now = new Date();
      const [available] = await tx
        .update(ticketAttachments)
        .set({
          scanStatus: 'clean',
          scannedAt: sql`coalesce(${ticketAttachments.scannedAt}, ${now})`,
          availableAt: now,
          waitingReason: null,
          waitingUntil: null,
        })
        .where(
          and(
            eq(ticketAttachments.id, input.attachmentId),
            eq(ticketAttachments.organizationId, input.organizationId),
            eq(ticketAttachments.scanStatus, 'pending_scan'),
            isNull(ticketAttachments.deletedAt),
          ),
        )
        .returning();
      if (!available) {
        const [current] = await tx
          .select({ status: ticketAttachments.scanStatus, deletedAt: ticketAttachments.deletedAt })
          .from(ticketAttachments)
          .where(eq(ticketAttachments.id, input.attachmentId));
        return !current || current.deletedAt ? 'deleted' : current.status === 'clean' ? 'available' : 'failed';
      }
      const scope = systemScope(input.organizationId);
      await emitTicketEvent(tx, scope, input.ticketId, 'attachment.available', {
        ticket: toTicketSnapshot(ticket),
        attachment: toAttachmentSnapshot(available),
      });
      await recordAudit(tx, scope, {
        action: 'attachment.scanned',
        entityType: 'attachment',
        entityId: input.attachmentId,
        metadata: { result: 'clean' },
      });
      return 'available';
    });
  }

  return {
    /**
     * `settle`: the workflow lets this step make a file available when the upload's own scan found it clean and it
     * needs no thumbnail. Only workflows that know `settled` ask (patch `upload-scan-settles`): a run of older code
     * would ignore it and schedule `markAvailable` anyway, a history that newer code could not replay.
     */
    async scanAttachment(input: UploadInput & { settle?: boolean }): Promise<ScanResult> {
      const file = await row(input);
      if (!file || file.deletedAt) return { verdict: 'gone' };
      // A retried scan whose verdict was already written (the worker died after writing it) answers from the row.
      if (file.scanStatus === 'clean') return { verdict: 'clean' };
      if (file.scanStatus === 'infected') return { verdict: 'infected', signature: file.scanSignature ?? 'unknown' };
      if (file.scanStatus === 'failed') throw permanent(file.failureReason ?? 'the file failed');
      // Scanned as it was uploaded (the API's tee into clamd): the verdict is on the row.
      if (file.scannedAt) {
        if (file.scanSignature) return { verdict: 'infected', signature: file.scanSignature };
        // Without a thumbnail to make, nothing stands between this verdict and serving the file: it is made available
        // here, which spares every such upload an activity and a workflow task (a Temporal round trip each).
        return input.settle && !input.raster
          ? { verdict: 'clean', settled: await makeAvailable(input) }
          : { verdict: 'clean' };
      }
      return waitingOut(input, async () => {
        const verdict = await scanStream(await plaintext(file), deps.clamd);
        return verdict.verdict === 'clean'
          ? { verdict: 'clean' }
          : { verdict: 'infected', signature: verdict.signature };
      });
    },

    async blockAttachment(input: UploadInput & { signature: string }): Promise<void> {
      const file = await row(input);
      if (!file) return;
      // Deleted first: should the row update fail, the retry finds no object to serve and deletes nothing twice.
      const store = await deps.stores.of(file);
      await waitingOut(input, () => store.delete(file.storageKey));
      await db.transaction(async (tx) => {
        const ticket = await lockTicket(tx, input.organizationId, input.ticketId);
        const [blocked] = await tx
          .update(ticketAttachments)
          .set({ scanStatus: 'infected', scanSignature: input.signature, scannedAt: new Date(), keyEnvelope: null })
          .where(
            and(
              eq(ticketAttachments.id, file.id),
              eq(ticketAttachments.scanStatus, 'pending_scan'),
              isNull(ticketAttachments.deletedAt),
            ),
          )
          .returning();
        if (!blocked) return;
        const scope = systemScope(input.organizationId);
        await emitTicketEvent(tx, scope, input.ticketId, 'attachment.blocked', {
          ticket: toTicketSnapshot(ticket),
          attachment: toAttachmentSnapshot(blocked),
          signature: input.signature,
        });
        await recordAudit(tx, scope, {
          action: 'attachment.scanned',
          entityType: 'attachment',
          entityId: file.id,
          metadata: { result: 'infected', signature: input.signature },
        });
      });
    },

    async makeThumbnail(input: UploadInput): Promise<void> {
      const file = await row(input);
      if (!file || file.deletedAt || file.thumbnailKey || file.scanStatus !== 'pending_scan') return;
      const chunks: Buffer[] = [];
      await waitingOut(input, async () => {
        for await (const chunk of await plaintext(file)) chunks.push(chunk as Buffer);
      });
      let thumb: Awaited<ReturnType<typeof renderThumbnail>>;
      try {
        thumb = await renderThumbnail(Buffer.concat(chunks), {
          size: 256,
          maxPixels: deps.maxImagePixels,
          transferInput: true,
        });
      } catch (error) {
        if (error instanceof ThumbnailRefusedError) return;
        throw error;
      }
      const context = thumbnailContext(file.organizationId, file.id);
      const { dataKey, envelope } = newFileKey(deps.credentialKeys, context);
      const key = thumbnailKey(file.organizationId, file.id);
      const store = await deps.stores.of(file);
      try {
        const encrypt = encryptStream(dataKey, envelope, context);
        const put = store.put(key, encrypt);
        encrypt.end(thumb.bytes);
        await waitingOut(input, () => put);
      } finally {
        dataKey.fill(0);
      }
      await db
        .update(ticketAttachments)
        .set({
          thumbnailKey: key,
          thumbnailEnvelope: envelope,
          thumbnailSize: thumb.bytes.length,
          thumbnailMime: thumb.mime,
        })
        .where(and(eq(ticketAttachments.id, file.id), isNull(ticketAttachments.deletedAt)));
    },

    markAvailable: makeAvailable,

    /** The schedule's sweep of every store (activities/files/sweep.ts). */
    async sweepQuarantine(input: { graceMs: number }) {
      const context = Context.current();
      const heartbeat = setInterval(() => context.heartbeat(), 30_000);
      try {
        return await sweepAllStores(db, deps.stores, input.graceMs);
      } finally {
        clearInterval(heartbeat);
      }
    },

    async failAttachment(input: UploadInput & { reason: string }): Promise<void> {
      const file = await row(input);
      if (!file) return;
      const store = await deps.stores.of(file).catch(() => undefined);
      await store?.delete(file.storageKey).catch(() => undefined);
      if (file.thumbnailKey) await store?.delete(file.thumbnailKey).catch(() => undefined);
      await db.transaction(async (tx) => {
        const ticket = await lockTicket(tx, input.organizationId, input.ticketId);
        const [failed] = await tx
          .update(ticketAttachments)
          .set({ scanStatus: 'failed', failureReason: input.reason, waitingReason: null, waitingUntil: null })
          .where(
            and(
              eq(ticketAttachments.id, file.id),
              eq(ticketAttachments.scanStatus, 'pending_scan'),
              isNull(ticketAttachments.deletedAt),
            ),
          )
          .returning();
        if (!failed) return;
        await emitTicketEvent(tx, systemScope(input.organizationId), input.ticketId, 'attachment.failed', {
          ticket: toTicketSnapshot(ticket),
          attachment: toAttachmentSnapshot(failed),
          reason: input.reason,
        });
      });
    },
  };
}

export type FilePipelineActivities = ReturnType<typeof createFilePipelineActivities>;

function permanent(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'AttachmentPermanentError');
}

/**
 * Why a step waits, in words for every member of the organisation; undefined when the error is not worth waiting
 * out. The details (hosts, ports, the server's words) are the operators': they are in the activity's failure, seen
 * in the Temporal Web UI, not on the ticket.
 */
function waitReason(error: unknown): string | undefined {
  if (error instanceof ScannerUnavailableError) return 'the virus scanner is unreachable';
  if (error instanceof ClamdScanError && !error.sizeLimitExceeded)
    return 'the virus scanner could not scan it just now';
  if (error instanceof BlobStoreUnavailableError) return 'the file store is unreachable';
  return undefined;
}

/** Errors that no retry can fix become the workflow's permanent failure, with words an agent can act on. */
function classify(error: unknown): unknown {
  if (error instanceof FileCryptoError)
    return permanent('the stored file does not decrypt (it was altered or truncated)');
  if (error instanceof BlobNotFoundError) return permanent('the stored file is missing');
  if (error instanceof BlobStorePermanentError) return permanent(`the file store refused it: ${error.message}`);
  // clamd will never take a stream past its StreamMaxLength: no retry can change that. Its other errors (out of
  // memory, a database reload) pass, and are retried.
  if (error instanceof ClamdScanError && error.sizeLimitExceeded)
    return permanent('the file is too large for the virus scanner');
  return error;
}
