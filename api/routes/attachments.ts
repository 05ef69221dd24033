// Attachments over HTTP: the multipart upload to a ticket (streamed, several files, all or nothing), downloads and
// thumbnails (decrypted as they stream, with Range), signed links for people without a session, delete, the
// per-attachment audit, and the organisation's limits. Who may: any member reads and downloads, agents upload,
// delete and make links, admins read the audit and set the limits; another organisation's file is a 404.

import { pipeline } from 'node:stream/promises';
import { ticketAttachments } from '@switchboard/database';
import Busboy from 'busboy';
import { eq } from 'drizzle-orm';
import type { Request, Response, Router } from 'express';
import express from 'express';
import { type OpenedDownload, openDownload, parseRange, type Which } from '../../activities/files/downloads.ts';
import type { StagedFile } from '../../activities/files/intake.ts';
import { filesRuntime } from '../../activities/files/runtime.ts';
import { type ErrorDetail, notFound, RequestError } from '../../common/errors.ts';
import { contentDisposition } from '../../common/files/file-names.ts';
import type { Scope, ServiceDeps } from '../../common/integration-contract.ts';
import { recordAudit } from '../../domain/audit.ts';
import {
  type AttachmentRow,
  attachmentAudit,
  attachmentAuditEntry,
  attachmentLimits,
  attachmentView,
  deleteAttachment,
  listTicketAttachments,
  loadAttachment,
  setAttachmentLimits,
  toAttachmentView,
} from '../../domain/files/attachments.ts';
import { linkPurposes, signLink, verifyLink } from '../../domain/files/signed-links.ts';
import { scopeOf } from '../../domain/scope.ts';
import { assertTicketExists } from '../../domain/tickets/ticket-record.ts';
import { z } from '../../domain/zod.ts';
import { fileSettings } from '../../packages/integrations/files/settings.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';

const Attachment = registry.register('Attachment', attachmentView);
const AttachmentList = registry.register('AttachmentList', z.object({ data: z.array(attachmentView) }));
const AttachmentAudit = registry.register('AttachmentAudit', z.object({ data: z.array(attachmentAuditEntry) }));
const attachmentLimitsView = z.object({
  maxFileBytes: z.number().int(),
  ticketQuotaBytes: z.number().int(),
  orgQuotaBytes: z.number().int(),
});
const AttachmentLimitsView = registry.register('AttachmentLimits', attachmentLimitsView);
const limitsInput = z
  .object({
    maxFileBytes: z
      .number()
      .int()
      .min(1)
      .max(2 ** 40)
      .nullable()
      .optional(),
    ticketQuotaBytes: z
      .number()
      .int()
      .min(1)
      .max(2 ** 50)
      .nullable()
      .optional(),
    orgQuotaBytes: z
      .number()
      .int()
      .min(1)
      .max(2 ** 50)
      .nullable()
      .optional(),
  })
  .strict();
const linkInput = z
  .object({
    purpose: z.enum(linkPurposes).default('download'),
    /** Who the link is for (a requester's customer id or a member's id); the audit names them. Default: the caller. */
    recipient: z.string().min(1).max(200).optional(),
  })
  .strict();
const LinkView = registry.register(
  'AttachmentLink',
  z.object({ url: z.string(), expiresAt: z.iso.datetime({ offset: true }) }),
);
const multipartUpload = z.object({
  file: z.array(z.string().openapi({ format: 'binary' })).describe('One or more files (field name `file`)'),
});

const ticketParams = z.object({ id: z.uuid() }).strict();
const attachmentParams = z.object({ id: z.uuid() }).strict();

/** JSON routes, mounted with the other authenticated routers. */
export function attachmentsRouter(deps: ServiceDeps): Router {
  const router = express.Router();
  const files = () => filesRuntime(deps);

  defineRoute(router, {
    method: 'get',
    path: '/api/tickets/{id}/attachments',
    summary: 'The ticket’s attachments, oldest first, with their scan status',
    tags: ['Attachments'],
    minRole: 'viewer',
    request: { params: ticketParams },
    responses: { 200: { description: 'Attachments', schema: AttachmentList } },
    handler: async ({ auth, params }) => {
      await assertTicketExists(deps.db, auth.organizationId, params.id);
      return { status: 200, body: { data: await listTicketAttachments(deps.db, auth.organizationId, params.id) } };
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/attachments/{id}',
    summary: 'One attachment: its scan status, why it waits (and until when), and whether it has a thumbnail',
    tags: ['Attachments'],
    minRole: 'viewer',
    request: { params: attachmentParams },
    responses: { 200: { description: 'The attachment', schema: Attachment } },
    handler: async ({ auth, params }) => ({
      status: 200,
      body: toAttachmentView(await loadAttachment(deps.db, auth.organizationId, params.id)),
    }),
  });

  defineRoute(router, {
    method: 'delete',
    path: '/api/attachments/{id}',
    summary: 'Delete an attachment: it is gone from the ticket and from storage; the audit trail stays',
    tags: ['Attachments'],
    minRole: 'agent',
    request: { params: attachmentParams },
    responses: { 204: { description: 'Deleted', schema: null } },
    handler: async ({ auth, req, params }) => {
      const deleted = await deleteAttachment(deps.db, scopeOf(auth, req.id), params.id);
      // After the commit: a failure here leaves an object no live row claims, which the sweep removes.
      const store = await files().stores.of(deleted);
      await Promise.all(
        [deleted.storageKey, deleted.thumbnailKey]
          .filter((key): key is string => key !== null)
          .map((key) => store.delete(key).catch(() => undefined)),
      );
      return { status: 204 };
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/attachments/{id}/audit',
    summary: 'Everything that happened to an attachment, newest first: upload, scan result, each download, delete',
    tags: ['Attachments'],
    minRole: 'admin',
    request: { params: attachmentParams },
    responses: { 200: { description: 'Audit entries', schema: AttachmentAudit } },
    handler: async ({ auth, params }) => {
      // Also for deleted files: the trail outlives them. Another organisation's id finds no row, hence a 404.
      const [row] = await deps.db
        .select({ organizationId: ticketAttachments.organizationId })
        .from(ticketAttachments)
        .where(eq(ticketAttachments.id, params.id));
      if (!row || row.organizationId !== auth.organizationId) throw notFound('attachment');
      return { status: 200, body: { data: await attachmentAudit(deps.db, auth.organizationId, params.id) } };
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/attachments/{id}/links',
    summary:
      'A short-lived signed link to the file (or its thumbnail) for someone without a session, such as the ' +
      'ticket’s requester in an email; valid for FILES_LINK_TTL_SECONDS (5 minutes by default)',
    tags: ['Attachments'],
    minRole: 'agent',
    request: { params: attachmentParams, body: linkInput },
    responses: { 201: { description: 'The link', schema: LinkView } },
    handler: async ({ auth, req, params, body }) => {
      const file = await loadAttachment(deps.db, auth.organizationId, params.id);
      const recipient = body.recipient ?? auth.userId;
      const link = makeLink(deps, file, body.purpose, recipient, `${auth.actor.type}:${auth.actor.id}`);
      // Every link is on the record: who made it, for whom, for what and until when (never the link itself).
      await recordAudit(deps.db, scopeOf(auth, req.id), {
        action: 'attachment.link_created',
        entityType: 'attachment',
        entityId: file.id,
        metadata: { recipient, purpose: body.purpose, expiresAt: link.expiresAt },
      });
      return { status: 201, body: link };
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/files/limits',
    summary:
      'The organisation’s attachment limits: the largest file, and the bytes a ticket and the organisation may hold',
    tags: ['Attachments'],
    minRole: 'viewer',
    responses: { 200: { description: 'Limits in bytes', schema: AttachmentLimitsView } },
    handler: async ({ auth }) => ({
      status: 200,
      body: await attachmentLimits(deps.db, auth.organizationId, files().settings.limits),
    }),
  });

  defineRoute(router, {
    method: 'put',
    path: '/api/files/limits',
    summary:
      'Set the organisation’s attachment limits, at most the deployment’s (422 names a field above it); null returns ' +
      'one to the deployment’s default',
    tags: ['Attachments'],
    minRole: 'admin',
    request: { body: limitsInput },
    responses: { 200: { description: 'Limits in bytes', schema: AttachmentLimitsView } },
    handler: async ({ auth, req, body }) => {
      await setAttachmentLimits(deps.db, scopeOf(auth, req.id), body, files().settings.limits);
      return { status: 200, body: await attachmentLimits(deps.db, auth.organizationId, files().settings.limits) };
    },
  });

  return router;
}

/** Uploads and downloads: they read and write their own bodies as streams. */
export function attachmentStreamingRouter(deps: ServiceDeps): Router {
  const router = express.Router();

  defineRoute(router, {
    method: 'post',
    path: '/api/tickets/{id}/attachments',
    summary:
      'Attach files to a ticket (multipart/form-data, one or more parts named `file`). Streamed: a file is refused ' +
      'the moment it crosses the limit (413), before the rest is read. The type is decided from the bytes against ' +
      'an allow-list (415 names the file and why: not allowed, or a name or Content-Type that lies about it). All ' +
      'or nothing: when any file is refused, none is kept. Each accepted file is pending_scan until the virus scan ' +
      'passes, and is never served before.',
    tags: ['Attachments'],
    minRole: 'agent',
    request: { params: ticketParams },
    multipartBody: multipartUpload,
    responses: { 201: { description: 'The new attachments, pending_scan', schema: AttachmentList } },
    handler: async ({ auth, req, res, params }) => {
      const views = await receiveMultipart(deps, req, res, scopeOf(auth, req.id), params.id);
      return { status: 201, body: { data: views } };
    },
  });

  for (const which of ['content', 'thumbnail'] as const) {
    defineRoute(router, {
      method: 'get',
      path: `/api/attachments/{id}/${which}`,
      summary:
        which === 'content'
          ? 'Download the file (decrypted as it streams; Range supported). Only clean files are served (409 otherwise).'
          : 'The file’s 256 px thumbnail (raster images only).',
      tags: ['Attachments'],
      minRole: 'viewer',
      request: { params: attachmentParams },
      responses: {},
      rawResponses:
        which === 'content'
          ? {
              200: { description: 'The file', contentTypes: ['application/octet-stream'] },
              206: { description: 'The requested range', contentTypes: ['application/octet-stream'] },
            }
          : { 200: { description: 'The thumbnail', contentTypes: ['image/jpeg', 'image/png'] } },
      handler: async ({ auth, req, res, params }) => {
        const file = await loadAttachment(deps.db, auth.organizationId, params.id);
        await serveFile(deps, req, res, file, which, {
          scope: scopeOf(auth, req.id),
          via: 'session',
        });
        return { streamed: true };
      },
    });
  }

  return router;
}

/** Signed links: no session, the link is the credential. Anything wrong with it is a 404. */
export function attachmentLinksRouter(deps: ServiceDeps): Router {
  const router = express.Router();
  defineRoute(router, {
    method: 'get',
    path: '/files/links/{organizationId}/{attachmentId}/{purpose}',
    summary:
      'A signed link (made with POST /api/attachments/{id}/links): the file or its thumbnail without a session, ' +
      'until the link expires. A link that is expired, altered or used for another file or purpose is a 404.',
    tags: ['Attachments'],
    // Loose on purpose: every malformed part is the same 404 as a wrong signature, not a 422 that describes it.
    request: {
      params: z.object({ organizationId: z.string(), attachmentId: z.string(), purpose: z.string() }).strict(),
      query: z
        .object({ exp: z.string(), kid: z.string(), rcpt: z.string(), by: z.string(), sig: z.string() })
        .partial(),
    },
    responses: {},
    rawResponses: { 200: { description: 'The bytes', contentTypes: ['application/octet-stream'] } },
    handler: async ({ req, res, params, query }) => {
      const { organizationId, attachmentId, purpose } = params;
      if (!z.uuid().safeParse(attachmentId).success || !(linkPurposes as readonly string[]).includes(purpose))
        throw notFound('link');
      const verdict = verifyLink(
        deps.config.credentialKeys,
        { organizationId, attachmentId, purpose: purpose as (typeof linkPurposes)[number] },
        query,
      );
      if (!verdict.ok)
        throw new RequestError(
          404,
          'not_found',
          verdict.reason === 'expired' ? 'this link has expired' : 'link not found',
        );
      const file = await loadAttachment(deps.db, organizationId, attachmentId);
      const scope: Scope = {
        organizationId,
        actor: { type: 'customer', id: verdict.claims.recipient },
        userId: null,
        requestId: req.id,
      };
      await serveFile(deps, req, res, file, purpose === 'download' ? 'content' : 'thumbnail', {
        scope,
        via: 'link',
        linkMadeBy: verdict.claims.madeBy,
      });
      return { streamed: true };
    },
  });
  return router;
}

export function makeLink(
  deps: Pick<ServiceDeps, 'config'>,
  file: Pick<AttachmentRow, 'id' | 'organizationId'>,
  purpose: (typeof linkPurposes)[number],
  recipient: string,
  /** Who makes it: `user:<id>`, or an integration sending it (`integration:slack`). */
  madeBy: string,
): { url: string; expiresAt: string } {
  const ttl = fileSettings.of(deps.config).linkTtlSeconds;
  const expiresAt = Math.floor(Date.now() / 1000) + ttl;
  const query = signLink(deps.config.credentialKeys, {
    attachmentId: file.id,
    organizationId: file.organizationId,
    purpose,
    recipient,
    madeBy,
    expiresAt,
  });
  const base = deps.config.publicUrl.replace(/\/$/, '');
  return {
    url: `${base}/files/links/${file.organizationId}/${file.id}/${purpose}?${new URLSearchParams(query)}`,
    expiresAt: new Date(expiresAt * 1000).toISOString(),
  };
}

/**
 * Streams a clean file (or its thumbnail) with headers that keep it from ever running in our origin: attachment
 * disposition unless it is a raster image, nosniff, and a sandboxing CSP. Each download of the file itself is
 * audited (who, how, IP, user agent); thumbnails are not, they are part of viewing the ticket.
 */
async function serveFile(
  deps: ServiceDeps,
  req: Request,
  res: Response,
  file: AttachmentRow,
  which: Which,
  who: { scope: Scope; via: 'session' | 'link'; linkMadeBy?: string },
): Promise<void> {
  const runtime = filesRuntime(deps);
  const size = which === 'content' ? file.fileSize : (file.thumbnailSize ?? 0);
  const wanted = which === 'content' ? parseRange(req.headers.range, size) : 'whole';
  if (wanted === 'unsatisfiable') {
    res.status(416).set('Content-Range', `bytes */${size}`).end();
    return;
  }
  const range = wanted === 'whole' ? undefined : wanted;
  const inline = which === 'thumbnail' || file.raster;
  const headers = (mimeType: string, total: number) => ({
    'Content-Type': mimeType,
    'Content-Length': String(range ? range.end - range.start + 1 : total),
    'Accept-Ranges': which === 'content' ? 'bytes' : 'none',
    'Content-Disposition': contentDisposition(inline ? 'inline' : 'attachment', file.storageName),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'",
    'Cache-Control': 'private, no-store',
    ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${total}` } : {}),
  });
  // HEAD: the headers a GET would send, without reading (or auditing) the file.
  if (req.method === 'HEAD') {
    if (file.scanStatus !== 'clean' || (which === 'thumbnail' && !file.thumbnailKey)) throw notFound(which);
    const mimeType = which === 'content' ? file.mimeType : (file.thumbnailMime ?? 'image/jpeg');
    res
      .status(range ? 206 : 200)
      .set(headers(mimeType, size))
      .end();
    return;
  }
  const opened: OpenedDownload = await openDownload(
    { credentialKeys: deps.config.credentialKeys, stores: runtime.stores },
    file,
    which,
    range,
  );
  try {
    if (which === 'content')
      await recordAudit(deps.db, who.scope, {
        action: 'attachment.downloaded',
        entityType: 'attachment',
        entityId: file.id,
        metadata: {
          via: who.via,
          ...(who.linkMadeBy ? { linkMadeBy: who.linkMadeBy } : {}),
          ip: req.ip ?? null,
          userAgent: req.get('user-agent') ?? null,
          ...(range ? { range: `${range.start}-${range.end}` } : {}),
        },
      });
  } catch (error) {
    opened.body.destroy();
    throw error;
  }
  res.status(range ? 206 : 200).set(headers(opened.mimeType, opened.size));
  // A failure after the headers (a segment that does not verify) cuts the body short: the client sees an
  // incomplete download, never wrong bytes. A client that goes away (a video seeking, a cancelled download)
  // releases the store's stream at once.
  await pipeline(opened.body, res).catch(() => {
    opened.body.destroy();
    res.destroy();
  });
}

/**
 * Reads a multipart body part by part, staging each file as it streams. A file over the limit ends the request at
 * once (413, the rest of the body is not read); refused types are collected so the answer names every refused file.
 * Nothing is kept unless every file was accepted.
 */
async function receiveMultipart(
  deps: ServiceDeps,
  req: Request,
  res: Response,
  scope: Scope,
  ticketId: string,
): Promise<ReturnType<typeof toAttachmentView>[]> {
  if (!req.is('multipart/form-data'))
    throw new RequestError(
      415,
      'unsupported_media_type',
      `attachments are uploaded as multipart/form-data, got ${req.headers['content-type'] ?? 'no content type'}`,
    );
  const { intake, settings } = filesRuntime(deps);
  const budget = await intake.budget(scope, ticketId);
  const staged: Array<StagedFile & { position: number }> = [];
  const refused: Array<ErrorDetail & { status: number; code: string }> = [];
  const work: Promise<void>[] = [];
  let fatal: unknown;
  let index = 0;

  let parser: ReturnType<typeof Busboy>;
  try {
    parser = Busboy({
      headers: req.headers,
      defParamCharset: 'utf8',
      limits: {
        files: settings.limits.maxFilesPerRequest,
        fields: 20,
        fileSize: budget.limits.maxFileBytes + 1,
        headerPairs: 50,
      },
    });
  } catch (error) {
    throw new RequestError(
      400,
      'malformed_multipart',
      `the multipart body cannot be read: ${(error as Error).message}`,
    );
  }

  /**
   * Stops reading the body: the parser is destroyed, which errors the file stream being staged (its stage() then
   * removes what it wrote), and nothing after it is parsed.
   */
  const stop = (error: unknown) => {
    fatal ??= error;
    req.unpipe(parser);
    if (!parser.destroyed) parser.destroy(error instanceof Error ? error : new Error(String(error)));
  };
  const finished = new Promise<void>((resolve) => {
    parser.on('file', (field, stream, info) => {
      const position = index++;
      if (field !== 'file' || fatal) {
        stream.resume();
        if (field !== 'file')
          refused.push({
            path: field,
            message: 'files are sent in parts named "file"',
            status: 422,
            code: 'validation_failed',
          });
        return;
      }
      work.push(
        intake
          .stage(scope, ticketId, 'web', { stream, name: info.filename ?? 'file', mime: info.mimeType }, budget)
          .then(
            (file) => {
              staged.push({ ...file, position });
            },
            (error: unknown) => {
              if (error instanceof RequestError && error.status !== 413) {
                refused.push({
                  path: `file[${position}]`,
                  message: error.message,
                  status: error.status,
                  code: error.code,
                });
                return;
              }
              // The limit is crossed (or storage failed): the rest of the body is not wanted.
              stop(error);
            },
          ),
      );
    });
    parser.on('filesLimit', () =>
      stop(new RequestError(413, 'too_many_files', `at most ${settings.limits.maxFilesPerRequest} files per request`)),
    );
    parser.on('error', (error: Error) => {
      fatal ??= new RequestError(400, 'malformed_multipart', `the multipart body cannot be read: ${error.message}`);
      resolve();
    });
    parser.on('close', () => resolve());
    // The client went away mid-upload: whatever was staged goes, and nobody is waiting for an answer.
    req.on('aborted', () => stop(new RequestError(400, 'aborted', 'the upload was interrupted')));
    req.on('error', (error) => stop(error));
  });
  req.pipe(parser);

  await finished;
  // Every staged file settles (a stage errored by the parser's destruction removes its own object), so the
  // discard below sees all of them.
  await Promise.allSettled(work);
  if (fatal) {
    // The client may still be sending: answer now and close the connection rather than read the rest.
    res.set('Connection', 'close');
    res.once('finish', () => req.destroy());
    await intake.discard(staged);
    throw fatal;
  }
  if (refused.length > 0) {
    await intake.discard(staged);
    // One refusal keeps its own status and code; several of different kinds answer 422.
    const same = refused.every((r) => r.status === refused[0]!.status && r.code === refused[0]!.code);
    throw new RequestError(
      same ? refused[0]!.status : 422,
      same ? refused[0]!.code : 'files_refused',
      refused.length === 1 ? refused[0]!.message : `${refused.length} files were refused; nothing was attached`,
      refused.map(({ path, message }) => ({ path, message })),
    );
  }
  if (staged.length === 0)
    throw new RequestError(422, 'validation_failed', 'no file in the request (send parts named "file")', [
      { path: 'file', message: 'required' },
    ]);
  // Rows in the order the client sent the files (staging may finish out of order).
  return intake.commit(
    scope,
    staged.sort((a, b) => a.position - b.position),
  );
}
