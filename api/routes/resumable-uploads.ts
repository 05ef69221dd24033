// Resumable uploads (the tus 1.0 protocol, @tus/server): a dropped connection resumes where it stopped instead of
// restarting a 25 MB upload. The parts collect on the API host's disk (FILES_STAGING_DIR), never in object storage:
// the store must only ever receive ciphertext, so no presigned direct-to-bucket uploads. When the last byte arrives
// the file goes through the same intake as a multipart upload (type from the bytes, limits, encryption, the row and
// its event), and the staged copy is removed. specification/decisions.md records the choice.
//
// Create with POST /api/uploads, `Upload-Length` and `Upload-Metadata: ticketId <b64>, filename <b64>, filetype <b64>`
// (agents and admins); then PATCH from `Upload-Offset`. An upload belongs to the member who created it: another
// member, or another organisation, gets a 404 for it. The final PATCH answers 200 with the attachment as JSON.
import { createReadStream, mkdirSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { FileStore } from '@tus/file-store';
import { Server, type ServerOptions } from '@tus/server';

type Upload = Parameters<NonNullable<ServerOptions['onUploadFinish']>>[1];

import express, { type Router } from 'express';
import { filesRuntime } from '../../activities/files/runtime.ts';
import { RequestError } from '../../common/errors.ts';
import type { ServiceDeps } from '../../common/integration-contract.ts';
import type { AttachmentView } from '../../domain/files/attachments.ts';
import { attachmentLimits } from '../../domain/files/attachments.ts';
import { scopeOf } from '../../domain/scope.ts';
import { assertTicketExists } from '../../domain/tickets/ticket-record.ts';
import { z } from '../../domain/zod.ts';
import type { AuthContext } from '../http/context.ts';
import { registry } from '../openapi/registry.ts';

export const UPLOADS_PATH = '/api/uploads';
/** A resumable upload not finished within a day is removed. */
const EXPIRES_MS = 24 * 60 * 60_000;

type TusRequest = { runtime?: { node?: { req: IncomingMessage } } };
type TusRejection = { status_code: number; body: string };

const rejection = (status: number, code: string, message: string): TusRejection => ({
  status_code: status,
  body: JSON.stringify({ error: { code, message } }),
});

export function resumableUploadsRouter(deps: ServiceDeps): Router {
  const runtime = filesRuntime(deps);
  mkdirSync(runtime.settings.stagingDir, { recursive: true });
  const datastore = new FileStore({
    directory: runtime.settings.stagingDir,
    expirationPeriodInMilliseconds: EXPIRES_MS,
  });

  const authOf = (req: TusRequest): AuthContext & { requestId: string } => {
    const node = req.runtime?.node?.req as (IncomingMessage & { auth?: AuthContext; id?: string }) | undefined;
    if (!node?.auth) throw rejection(401, 'unauthenticated', 'authentication required');
    if (node.auth.role === 'viewer') throw rejection(403, 'forbidden', 'this needs the agent role or higher');
    return { ...node.auth, requestId: node.id ?? '' };
  };

  const finishes = new Map<string, Promise<AttachmentView>>();
  /**
   * The finished upload through the intake. Its parts go once it is attached, or refused for good (a RequestError:
   * the type, the limits); on anything else (the store or the database unreachable) they stay, and the client's
   * next PATCH at the final offset (or HEAD, then PATCH) finishes it again: nothing is sent twice.
   */
  async function finish(auth: AuthContext & { requestId: string }, upload: Upload): Promise<AttachmentView> {
    const metadata = upload.metadata ?? {};
    const scope = scopeOf(auth, auth.requestId);
    const path = `${runtime.settings.stagingDir}/${upload.id}`;
    try {
      const view = await runtime.intake.accept(
        scope,
        metadata.ticketId!,
        'web',
        {
          stream: createReadStream(path),
          name: metadata.filename ?? 'file',
          ...(metadata.filetype ? { mime: metadata.filetype } : {}),
          size: upload.size ?? upload.offset,
        },
        { resumableUploadId: upload.id },
      );
      await datastore.remove(upload.id).catch(() => undefined);
      return view;
    } catch (error) {
      if (error instanceof RequestError) {
        await datastore.remove(upload.id).catch(() => undefined);
        throw rejection(error.status, error.code, error.message);
      }
      throw rejection(503, 'unavailable', 'the file could not be stored just now; send the last part again to retry');
    }
  }

  const tus = new Server({
    path: UPLOADS_PATH,
    datastore,
    relativeLocation: true,
    // The largest file the caller's organisation accepts: a larger Upload-Length is refused at creation (413).
    maxSize: async (req) => {
      const auth = authOf(req as TusRequest);
      return (await attachmentLimits(deps.db, auth.organizationId, runtime.settings.limits)).maxFileBytes;
    },
    async onUploadCreate(req, upload) {
      const auth = authOf(req as TusRequest);
      const parsed = z
        .object({ ticketId: z.uuid(), filename: z.string().min(1).max(1000), filetype: z.string().max(200).optional() })
        .safeParse(upload.metadata ?? {});
      if (!parsed.success)
        throw rejection(422, 'validation_failed', 'Upload-Metadata needs ticketId (a ticket id) and filename');
      try {
        await assertTicketExists(deps.db, auth.organizationId, parsed.data.ticketId);
      } catch {
        throw rejection(404, 'not_found', 'ticket not found');
      }
      // Who may resume it: set here, never taken from the client's metadata.
      return {
        metadata: {
          ticketId: parsed.data.ticketId,
          filename: parsed.data.filename,
          ...(parsed.data.filetype ? { filetype: parsed.data.filetype } : {}),
          organizationId: auth.organizationId,
          ownerUserId: auth.userId,
        },
      };
    },
    // Resuming, reading the offset or cancelling someone else's upload looks like a missing one.
    async onIncomingRequest(req, uploadId) {
      if (req.method === 'POST' || req.method === 'OPTIONS') return;
      const auth = authOf(req as TusRequest);
      const upload = await datastore.getUpload(uploadId).catch(() => undefined);
      if (
        !upload ||
        upload.metadata?.organizationId !== auth.organizationId ||
        upload.metadata?.ownerUserId !== auth.userId
      )
        throw rejection(404, 'not_found', 'upload not found');
    },
    async onUploadFinish(req, upload) {
      const auth = authOf(req as TusRequest);
      // One finish per upload in this process (a second PATCH at the final offset may arrive while the first one
      // is still storing the file); across processes and restarts the row's resumable_upload_id makes it once.
      let finishing = finishes.get(upload.id);
      if (!finishing) {
        finishing = finish(auth, upload);
        finishes.set(upload.id, finishing);
        // The finish's failure is the caller's (awaited below); this chain only schedules the forgetting, and must not
        // turn that failure into an unhandled rejection of its own.
        finishing.finally(() => setTimeout(() => finishes.delete(upload.id), 60_000).unref()).catch(() => undefined);
      }
      const view = await finishing;
      return { status_code: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(view) };
    },
    onResponseError(_req, err) {
      // Our own rejections carry their status and a JSON body; the library's own (413 over the size limit, 409 on
      // a wrong offset, …) carry plain text, given the API's error shape here so clients read one format.
      if ('status_code' in err) {
        if (err.body.startsWith('{')) return err;
        const code = err.status_code === 413 ? 'file_too_large' : 'upload_refused';
        return { status_code: err.status_code, body: JSON.stringify({ error: { code, message: err.body.trim() } }) };
      }
      return { status_code: 500, body: JSON.stringify({ error: { code: 'internal', message: 'upload failed' } }) };
    },
  });
  // Uploads that were never finished: their parts go after a day.
  const sweep = setInterval(() => void tus.cleanUpExpiredUploads().catch(() => undefined), 60 * 60_000);
  sweep.unref();

  const router = express.Router();
  const handle: express.RequestHandler = (req, res) => {
    void tus.handle(req, res);
  };
  documentTus();
  router.options(UPLOADS_PATH, handle);
  router.post(UPLOADS_PATH, handle);
  for (const method of ['options', 'head', 'patch', 'delete'] as const) router[method](`${UPLOADS_PATH}/:id`, handle);
  return router;
}

let documented = false;

/** The tus endpoints in the OpenAPI document (the protocol itself: https://tus.io/protocols/resumable-upload). */
function documentTus(): void {
  if (documented) return;
  documented = true;
  const security: Array<Record<string, string[]>> = [{ sessionCookie: [] }, { apiKey: [] }, { bearer: [] }];
  const tusHeaders = { 'Tus-Resumable': { schema: { type: 'string' as const, example: '1.0.0' } } };
  const entries: Array<{
    method: 'options' | 'post' | 'head' | 'patch' | 'delete';
    path: string;
    summary: string;
    status: number;
  }> = [
    {
      method: 'options',
      path: UPLOADS_PATH,
      summary: 'tus discovery: versions, extensions and the largest size',
      status: 204,
    },
    {
      method: 'post',
      path: UPLOADS_PATH,
      summary:
        'Create a resumable upload (tus creation): Upload-Length, and Upload-Metadata with ticketId, filename and ' +
        'filetype (base64). Agents and admins. 201 with Location; 413 over the organisation’s file limit',
      status: 201,
    },
    { method: 'options', path: `${UPLOADS_PATH}/{id}`, summary: 'tus discovery for one upload', status: 204 },
    {
      method: 'head',
      path: `${UPLOADS_PATH}/{id}`,
      summary: 'Where the upload stands (Upload-Offset): resume from there. Only its creator; anyone else 404',
      status: 200,
    },
    {
      method: 'patch',
      path: `${UPLOADS_PATH}/{id}`,
      summary:
        'Append bytes at Upload-Offset (application/offset+octet-stream). 204 while incomplete; the last one ' +
        'answers 200 with the attachment (pending_scan), or the refusal of the file (415, 413, 422)',
      status: 204,
    },
    { method: 'delete', path: `${UPLOADS_PATH}/{id}`, summary: 'Cancel an upload and remove its parts', status: 204 },
  ];
  for (const entry of entries)
    registry.registerPath({
      method: entry.method,
      path: entry.path,
      summary: entry.summary,
      tags: ['Attachments'],
      security,
      ...(entry.path.endsWith('{id}') ? { request: { params: z.object({ id: z.string() }) } } : {}),
      responses: {
        [entry.status]: { description: 'tus 1.0', headers: tusHeaders },
        404: { description: 'No such upload of the caller’s' },
      },
    });
}
