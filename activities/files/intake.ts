// The one way a file enters Switchboard, whatever brought it (a dashboard upload, the API, a resumable upload, an
// email, Slack): a stream plus who and where. It decides the type from the bytes, stops an oversize file the
// moment it crosses the limit, encrypts as it streams (storage never sees plaintext) and writes the row, its
// `attachment.uploaded` event and the audit entry in one transaction. The relay then starts the pipeline workflow
// `upload/<id>` (scan → thumbnail → available) from that event, so an upload accepted while Temporal is down is
// scanned once it is back.
//
// Two steps, so that a request carrying several files is all or nothing: `stage` streams one file into storage and
// `commit` writes the rows of every staged file; `discard` removes staged objects when the request fails. A failure
// anywhere leaves no object and no row (and the quarantine sweep removes what a crash between the two leaves).
import { createHash, randomUUID } from 'node:crypto';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Database, ticketAttachments } from '@switchboard/database';
import { and, eq, sql } from 'drizzle-orm';
import type { KeyRing } from '../../common/config.ts';
import { RequestError } from '../../common/errors.ts';
import { sanitizeFileName } from '../../common/files/file-names.ts';
import { classifyFile, SNIFF_BYTES } from '../../common/files/file-types.ts';
import { checkImagePixels } from '../../common/files/image-limits.ts';
import { encryptStream, fileKeyContext, newFileKey } from '../../common/files/sealed-stream.ts';
import type { Scope } from '../../common/integration-contract.ts';
import { recordAudit } from '../../domain/audit.ts';
import {
  type AttachmentLimits,
  type AttachmentSource,
  type AttachmentView,
  attachmentLimits,
  storedBytes,
  toAttachmentSnapshot,
  toAttachmentView,
} from '../../domain/files/attachments.ts';
import { emitTicketEvent } from '../../domain/tickets/events.ts';
import { assertTicketExists, lockTicket, toTicketSnapshot } from '../../domain/tickets/ticket-record.ts';
import { type ClamdEndpoint, type ScanVerdict, scanStream } from './clamd.ts';
import type { StoreDirectory } from './stores.ts';

export type IntakeDeps = {
  db: Database;
  credentialKeys: KeyRing;
  stores: StoreDirectory;
  defaultLimits: AttachmentLimits;
  maxImagePixels: number;
  /**
   * clamd, to scan the plaintext while it streams into storage (the pipeline then need not read the file back to
   * scan it). Best effort: when clamd is unreachable or slow the upload goes on and the pipeline scans, fail-closed.
   */
  scanOnUpload?: ClamdEndpoint;
};

export type IncomingFile = {
  stream: Readable;
  /** The name as the sender gave it: kept for display once sanitised, never trusted for the type. */
  name: string;
  /** The sender's Content-Type: only checked against the bytes. */
  mime?: string;
  /** Known in advance (resumable uploads, email parts): refused before a byte is read when too large. */
  size?: number;
};

export type StagedFile = {
  id: string;
  organizationId: string;
  ticketId: string;
  source: AttachmentSource;
  row: typeof ticketAttachments.$inferInsert;
};

/** The limits of one upload to a ticket, read once per request. */
export type UploadBudget = { limits: AttachmentLimits; used: { ticket: number; organization: number } };

/** The file's key context (also what rotate-keys rebuilds); the thumbnail's key has its own. */
export const attachmentContext = fileKeyContext;
export const thumbnailContext = (organizationId: string, attachmentId: string) =>
  `${fileKeyContext(organizationId, attachmentId)}/thumbnail`;
const objectKey = (organizationId: string, attachmentId: string) => `attachments/${organizationId}/${attachmentId}`;
export const thumbnailKey = (organizationId: string, attachmentId: string) =>
  `attachments/${organizationId}/${attachmentId}.thumb`;

const MB = 1024 * 1024;
const megabytes = (bytes: number) => `${bytes >= 10 * MB ? Math.round(bytes / MB) : (bytes / MB).toFixed(1)} MB`;

const fileTooLarge = (name: string, size: number | null, limit: number) =>
  new RequestError(
    413,
    'file_too_large',
    `${name}: too large (${size === null ? `more than ${megabytes(limit)}` : megabytes(size)}; the limit is ${megabytes(limit)})`,
  );

export class AttachmentIntake {
  private readonly deps: IntakeDeps;
  constructor(deps: IntakeDeps) {
    this.deps = deps;
  }

  /** The limits and current usage for uploads to a ticket; a 404 when the ticket is not the organisation's. */
  async budget(scope: Scope, ticketId: string): Promise<UploadBudget> {
    await assertTicketExists(this.deps.db, scope.organizationId, ticketId);
    const limits = await attachmentLimits(this.deps.db, scope.organizationId, this.deps.defaultLimits);
    return { limits, used: await storedBytes(this.deps.db, scope.organizationId, ticketId) };
  }

  /**
   * Streams one file into storage, encrypted. Refuses (RequestError, nothing left behind) a type that is not allowed
   * or whose name or Content-Type lies about it, an image with too many pixels, and a file that crosses the size
   * limit or the quotas left in `budget` (staged files of the same request count against it).
   */
  async stage(
    scope: Scope,
    ticketId: string,
    source: AttachmentSource,
    file: IncomingFile,
    budget: UploadBudget,
  ): Promise<StagedFile> {
    const names = sanitizeFileName(file.name);
    const limit = byteLimit(budget);
    if (file.size !== undefined && file.size > limit.bytes) throw limit.refusal(names.display, file.size);

    const head = await readHead(file.stream, SNIFF_BYTES);
    const verdict = await classifyFile(head.bytes, { name: file.name, mime: file.mime });
    if (!verdict.ok) {
      await drain(head.rest);
      throw new RequestError(415, 'unsupported_file_type', `${names.display}: ${verdict.reason}`);
    }
    if (verdict.kind.raster) {
      // A header past the sniffed bytes (a JPEG behind a large EXIF block) is checked again before the thumbnail
      // decodes it; only a header that declares too many pixels is refused here.
      const pixels = checkImagePixels(head.bytes, this.deps.maxImagePixels);
      if (!pixels.ok && pixels.code === 'too_large') {
        await drain(head.rest);
        throw new RequestError(422, 'image_too_large', `${names.display}: ${pixels.reason}`);
      }
    }

    const id = randomUUID();
    const context = attachmentContext(scope.organizationId, id);
    const key = objectKey(scope.organizationId, id);
    const { store, storageIntegrationId } = await this.deps.stores.forUpload(scope.organizationId);
    const { dataKey, envelope } = newFileKey(this.deps.credentialKeys, context);
    const meter = new Meter(limit.bytes, (size) => limit.refusal(names.display, size));
    const encrypt = encryptStream(dataKey, envelope, context);
    const scan = this.deps.scanOnUpload ? new ScanBranch(this.deps.scanOnUpload) : undefined;
    try {
      // The head is written back in front of the rest of the stream: the type check read it already.
      const put = store.put(key, encrypt);
      await Promise.all([
        scan ? pipeline(head.rest, meter, scan.tee, encrypt) : pipeline(head.rest, meter, encrypt),
        put,
      ]);
    } catch (error) {
      scan?.abandon();
      await store.delete(key).catch(() => undefined);
      throw error;
    } finally {
      dataKey.fill(0);
    }
    const scanned = await scan?.verdict();
    const infected = scanned?.verdict === 'infected' ? scanned.signature : undefined;
    // Found infected as it streamed in: the object goes now, before any row points at it, and the file is recorded
    // blocked with its signature. It never counts against the quotas.
    if (infected !== undefined) await store.delete(key);
    else {
      budget.used.ticket += meter.bytes;
      budget.used.organization += meter.bytes;
    }
    return {
      id,
      organizationId: scope.organizationId,
      ticketId,
      source,
      row: {
        id,
        organizationId: scope.organizationId,
        supportRequestId: ticketId,
        source,
        fileName: names.display,
        storageName: names.storage,
        fileSize: meter.bytes,
        mimeType: verdict.kind.mime,
        raster: verdict.kind.raster,
        storageKey: key,
        storageIntegrationId,
        keyEnvelope: infected === undefined ? envelope : null,
        checksumSha256: meter.sha256(),
        // A clean file is still pending_scan: the pipeline makes it available and nothing serves it before; the
        // verdict on the row spares the pipeline reading it back.
        scanStatus: infected === undefined ? 'pending_scan' : 'infected',
        ...(scanned ? { scannedAt: new Date(), scanSignature: infected ?? null } : {}),
        uploadedBy: scope.userId,
        uploadedByActorType: scope.actor.type,
        uploadedByActorId: scope.actor.id,
      },
    };
  }

  /**
   * Writes the rows of staged files, with their events and audit entries, in one transaction; the quotas are checked
   * again under the organisation's lock, so two requests racing cannot both fill the last megabytes.
   */
  async commit(scope: Scope, staged: StagedFile[]): Promise<AttachmentView[]> {
    if (staged.length === 0) return [];
    const ticketId = staged[0]!.ticketId;
    try {
      return await this.deps.db.transaction(async (tx) => {
        const ticket = await lockTicket(tx, scope.organizationId, ticketId);
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`attachments/${scope.organizationId}`}))`);
        const limits = await attachmentLimits(tx, scope.organizationId, this.deps.defaultLimits);
        const used = await storedBytes(tx, scope.organizationId, ticketId);
        const adding = staged
          .filter((file) => file.row.scanStatus !== 'infected')
          .reduce((sum, file) => sum + (file.row.fileSize ?? 0), 0);
        if (used.ticket + adding > limits.ticketQuotaBytes)
          throw quotaExceeded('ticket', limits.ticketQuotaBytes, used.ticket);
        if (used.organization + adding > limits.orgQuotaBytes)
          throw quotaExceeded('organisation', limits.orgQuotaBytes, used.organization);
        const rows = await tx
          .insert(ticketAttachments)
          .values(staged.map((file) => file.row))
          .returning();
        for (const row of rows) {
          await emitTicketEvent(tx, scope, ticketId, 'attachment.uploaded', {
            ticket: toTicketSnapshot(ticket),
            attachment: toAttachmentSnapshot(row),
          });
          await recordAudit(tx, scope, {
            action: 'attachment.uploaded',
            entityType: 'attachment',
            entityId: row.id,
            metadata: {
              ticketId,
              source: row.source,
              fileName: row.fileName,
              mimeType: row.mimeType,
              fileSize: row.fileSize,
              sha256: row.checksumSha256,
            },
          });
          if (row.scanStatus === 'infected') {
            await emitTicketEvent(tx, scope, ticketId, 'attachment.blocked', {
              ticket: toTicketSnapshot(ticket),
              attachment: toAttachmentSnapshot(row),
              signature: row.scanSignature ?? 'unknown',
            });
            await recordAudit(tx, scope, {
              action: 'attachment.scanned',
              entityType: 'attachment',
              entityId: row.id,
              metadata: { result: 'infected', signature: row.scanSignature, at: 'upload' },
            });
          }
        }
        return rows.map(toAttachmentView);
      });
    } catch (error) {
      await this.discard(staged);
      throw error;
    }
  }

  /** Removes the objects of staged files that will not be committed. */
  async discard(staged: StagedFile[]): Promise<void> {
    await Promise.all(
      staged.map(async (file) => {
        const store = await this.deps.stores.of({
          organizationId: file.organizationId,
          storageIntegrationId: file.row.storageIntegrationId ?? null,
        });
        await store.delete(file.row.storageKey).catch(() => undefined);
      }),
    );
  }

  /** One file, staged and committed: email and Slack attachments, finished resumable uploads. */
  async accept(
    scope: Scope,
    ticketId: string,
    source: AttachmentSource,
    file: IncomingFile,
    options: { resumableUploadId?: string } = {},
  ): Promise<AttachmentView> {
    const { resumableUploadId } = options;
    if (resumableUploadId) {
      const done = await this.#fromUpload(scope.organizationId, resumableUploadId);
      if (done) {
        file.stream.destroy();
        return done;
      }
    }
    const budget = await this.budget(scope, ticketId);
    const staged = await this.stage(scope, ticketId, source, file, budget);
    if (resumableUploadId) staged.row.resumableUploadId = resumableUploadId;
    try {
      const [view] = await this.commit(scope, [staged]);
      return view!;
    } catch (error) {
      // The same upload finished twice at once: the other one's row stands (its object is the one it points at).
      const done = resumableUploadId ? await this.#fromUpload(scope.organizationId, resumableUploadId) : undefined;
      if (done) return done;
      throw error;
    }
  }

  async #fromUpload(organizationId: string, resumableUploadId: string): Promise<AttachmentView | undefined> {
    const [row] = await this.deps.db
      .select()
      .from(ticketAttachments)
      .where(
        and(
          eq(ticketAttachments.organizationId, organizationId),
          eq(ticketAttachments.resumableUploadId, resumableUploadId),
        ),
      );
    return row ? toAttachmentView(row) : undefined;
  }
}

/** What a file may still weigh: the per-file limit or what is left of a quota, whichever is smallest. */
function byteLimit(budget: UploadBudget): { bytes: number; refusal(name: string, size: number | null): RequestError } {
  const { limits, used } = budget;
  const ticketLeft = limits.ticketQuotaBytes - used.ticket;
  const orgLeft = limits.orgQuotaBytes - used.organization;
  if (limits.maxFileBytes <= ticketLeft && limits.maxFileBytes <= orgLeft)
    return { bytes: limits.maxFileBytes, refusal: (name, size) => fileTooLarge(name, size, limits.maxFileBytes) };
  const ticketBinds = ticketLeft <= orgLeft;
  return {
    bytes: Math.max(0, Math.min(ticketLeft, orgLeft)),
    refusal: () =>
      ticketBinds
        ? quotaExceeded('ticket', limits.ticketQuotaBytes, used.ticket)
        : quotaExceeded('organisation', limits.orgQuotaBytes, used.organization),
  };
}

function quotaExceeded(whose: 'ticket' | 'organisation', quota: number, used: number): RequestError {
  return new RequestError(
    413,
    'quota_exceeded',
    `the ${whose}'s attachments would exceed its quota of ${megabytes(quota)} (${megabytes(used)} used)`,
  );
}

/**
 * Reads the first `bytes` of a stream (fewer if it ends sooner) without losing them: `rest` yields them again and
 * then the remainder, with backpressure, from the same iterator.
 */
async function readHead(stream: Readable, bytes: number): Promise<{ bytes: Buffer; rest: Readable }> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const taken: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < bytes) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    taken.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(taken);
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (ended) return;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  }
  return { bytes: head.subarray(0, bytes), rest: Readable.from(replay(), { objectMode: false }) };
}

/** Reads a refused file to its end so a multipart parser can go on to the next part. */
async function drain(stream: Readable): Promise<void> {
  for await (const _ of stream);
}

/** Counts and hashes the plaintext as it passes, and fails the stream the moment it crosses the limit. */
class Meter extends Transform {
  bytes = 0;
  readonly #hash = createHash('sha256');
  private readonly limit: number;
  private readonly refusal: (size: number | null) => Error;
  constructor(limit: number, refusal: (size: number | null) => Error) {
    super();
    this.limit = limit;
    this.refusal = refusal;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      callback(this.refusal(null));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }
  sha256(): string {
    return this.#hash.digest('hex');
  }
}

/**
 * The upload's own virus scan: a tee that feeds the plaintext to clamd as it passes on to the encrypter. It never
 * fails the upload: when clamd is unreachable, errs or falls behind, the branch is dropped and the pipeline scans
 * the stored file instead (fail-closed there). clamd's backpressure slows the upload only while clamd keeps up.
 */
/** How long the upload waits on clamd (to take a chunk, or to answer at the end) before leaving it to the pipeline. */
const STALL_MS = 2_000;

class ScanBranch {
  readonly tee: Transform;
  readonly #feed = new PassThrough({ highWaterMark: 256 * 1024 });
  readonly #result: Promise<ScanVerdict | undefined>;
  #dropped = false;
  #waiting: (() => void) | undefined;

  constructor(clamd: ClamdEndpoint) {
    this.#result = scanStream(this.#feed, clamd).then(
      (verdict) => verdict,
      () => {
        this.#drop();
        return undefined;
      },
    );
    const branch = this;
    this.tee = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        if (branch.#dropped || branch.#feed.write(chunk)) {
          callback(null, chunk);
          return;
        }
        branch.#waiting = () => callback(null, chunk);
        // clamd that stops reading must not stall the upload: give up on it and let the pipeline scan.
        const stalled = setTimeout(() => branch.abandon(true), STALL_MS);
        branch.#feed.once('drain', () => {
          clearTimeout(stalled);
          branch.#release();
        });
      },
      flush(callback) {
        if (!branch.#dropped) branch.#feed.end();
        callback();
      },
    });
  }

  /** clamd's verdict, or undefined when the branch was dropped or clamd is slow to answer (the pipeline scans). */
  async verdict(): Promise<ScanVerdict | undefined> {
    if (this.#dropped) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        this.abandon(true);
        resolve(undefined);
      }, STALL_MS);
    });
    try {
      return await Promise.race([this.#result, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Gives up on the scan. A clamd that still reads is sent the end of the stream, so it answers and frees its thread
   * at once (the verdict is ignored); one that stopped reading has its stream destroyed.
   */
  abandon(stalled = false): void {
    this.#dropped = true;
    if (stalled || this.#waiting) this.#feed.destroy();
    else if (!this.#feed.writableEnded) this.#feed.end();
    this.#release();
  }

  #release(): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.();
  }

  #drop(): void {
    this.#dropped = true;
    this.#release();
  }
}
