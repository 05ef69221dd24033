// Uploading files to a ticket, one request per file so each has its own progress and its own error.
// Small files go as multipart (POST /api/tickets/{id}/attachments, one part named `file`); larger ones through the
// resumable endpoint (tus 1.0 at /api/uploads), so a dropped connection goes on from the last byte the server holds
// instead of starting over. Both use XMLHttpRequest: fetch reports no upload progress. Requests are same-origin, so
// the session cookie goes with them and the browser adds the Origin header the API's CSRF check wants.
import { ApiError, type Attachment, reportUnauthenticated, toApiError } from './api.ts';

/** Files from this size on are uploaded resumably. */
export const RESUMABLE_FROM_BYTES = 8 * 1024 * 1024;
/** One PATCH of a resumable upload: a dropped connection costs at most this much again. */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** How often a resumable upload asks where to go on from after a dropped connection, before giving up. */
const RESUME_ATTEMPTS = 5;
const TUS_VERSION = '1.0.0';

export type Progress = (sentBytes: number, totalBytes: number) => void;

/** The upload stopped because the network did, not because the server refused it. */
export class UploadInterrupted extends Error {
  constructor() {
    super('the connection was lost during the upload');
    this.name = 'UploadInterrupted';
  }
}

/** The person cancelled it. */
export class UploadCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'UploadCancelled';
  }
}

type XhrAnswer = { status: number; body: unknown; header: (name: string) => string | null };

function parseBody(xhr: XMLHttpRequest): unknown {
  if (!xhr.responseText) return undefined;
  try {
    return JSON.parse(xhr.responseText);
  } catch {
    return undefined;
  }
}

/** One request; resolves with whatever status the server answered, rejects only when there was no answer. */
function send(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: XMLHttpRequestBodyInit | null,
  signal: AbortSignal,
  onProgress?: (loaded: number) => void,
): Promise<XhrAnswer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new UploadCancelled());
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.withCredentials = true;
    xhr.setRequestHeader('accept', 'application/json');
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    if (onProgress) xhr.upload.onprogress = (event) => onProgress(event.loaded);
    const abort = () => xhr.abort();
    signal.addEventListener('abort', abort, { once: true });
    const settle = () => signal.removeEventListener('abort', abort);
    xhr.onload = () => {
      settle();
      if (xhr.status === 401) reportUnauthenticated();
      resolve({ status: xhr.status, body: parseBody(xhr), header: (name) => xhr.getResponseHeader(name) });
    };
    xhr.onerror = () => {
      settle();
      reject(new UploadInterrupted());
    };
    xhr.onabort = () => {
      settle();
      reject(new UploadCancelled());
    };
    xhr.send(body);
  });
}

/** POSTs one file as multipart; resolves with its attachment (pending_scan), or rejects with the API's error. */
export async function uploadMultipart(
  ticketId: string,
  file: File,
  onProgress: Progress,
  signal: AbortSignal,
): Promise<Attachment> {
  const form = new FormData();
  form.append('file', file, file.name);
  const answer = await send(
    'POST',
    `/api/tickets/${encodeURIComponent(ticketId)}/attachments`,
    {},
    form,
    signal,
    // The multipart envelope adds a few hundred bytes; progress is the file's share of them.
    (loaded) => onProgress(Math.min(loaded, file.size), file.size),
  );
  if (answer.status !== 201) throw toApiError(answer.status, answer.body);
  const attachment = (answer.body as { data?: Attachment[] } | undefined)?.data?.[0];
  if (!attachment) throw new ApiError(answer.status, 'unexpected_answer', 'the server did not return the attachment');
  return attachment;
}

/** Upload-Metadata values are base64 of UTF-8. */
function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancel = () => {
      clearTimeout(timer);
      reject(new UploadCancelled());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', cancel);
      resolve();
    }, ms);
    signal.addEventListener('abort', cancel, { once: true });
  });
}

/**
 * Uploads one file with the tus protocol: create, then PATCH it in chunks from the offset the server holds. After a
 * dropped connection it asks (HEAD) where to go on from and resumes, a few times with growing pauses; the final
 * PATCH answers 200 with the attachment.
 */
export async function uploadResumable(
  ticketId: string,
  file: File,
  onProgress: Progress,
  signal: AbortSignal,
): Promise<Attachment> {
  const metadata = [
    `ticketId ${base64(ticketId)}`,
    `filename ${base64(file.name)}`,
    ...(file.type ? [`filetype ${base64(file.type)}`] : []),
  ].join(',');
  const created = await send(
    'POST',
    '/api/uploads',
    { 'Tus-Resumable': TUS_VERSION, 'Upload-Length': String(file.size), 'Upload-Metadata': metadata },
    null,
    signal,
  );
  const location = created.header('Location');
  if (created.status !== 201 || !location) throw toApiError(created.status, created.body);
  const uploadUrl = new URL(location, window.location.href).pathname;
  try {
    return await sendFrom(uploadUrl, file, onProgress, signal);
  } catch (error) {
    // Cancelled: the parts the server holds are not wanted (tus termination); otherwise they expire in a day.
    if (error instanceof UploadCancelled)
      void send('DELETE', uploadUrl, { 'Tus-Resumable': TUS_VERSION }, null, new AbortController().signal).catch(
        () => undefined,
      );
    throw error;
  }
}

async function sendFrom(uploadUrl: string, file: File, onProgress: Progress, signal: AbortSignal): Promise<Attachment> {
  let offset = 0;
  let failures = 0;
  onProgress(0, file.size);
  for (;;) {
    try {
      const end = Math.min(offset + CHUNK_BYTES, file.size);
      const answer = await send(
        'PATCH',
        uploadUrl,
        {
          'Tus-Resumable': TUS_VERSION,
          'Upload-Offset': String(offset),
          'Content-Type': 'application/offset+octet-stream',
        },
        file.slice(offset, end),
        signal,
        (loaded) => onProgress(offset + loaded, file.size),
      );
      // The last chunk: the server ran the file through the intake and answers with the attachment.
      if (answer.status === 200) return answer.body as Attachment;
      if (answer.status !== 204) throw toApiError(answer.status, answer.body);
      offset = Number(answer.header('Upload-Offset') ?? end);
      failures = 0;
      onProgress(offset, file.size);
    } catch (error) {
      if (!(error instanceof UploadInterrupted) || ++failures > RESUME_ATTEMPTS) throw error;
      offset = await resumeOffset(uploadUrl, signal);
      onProgress(offset, file.size);
    }
  }
}

/** Where the server got to after a dropped connection (HEAD), asked again with growing pauses while offline. */
async function resumeOffset(uploadUrl: string, signal: AbortSignal): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    await wait(1000 * 2 ** attempt, signal);
    try {
      const head = await send('HEAD', uploadUrl, { 'Tus-Resumable': TUS_VERSION }, null, signal);
      const offset = Number(head.header('Upload-Offset'));
      if (head.status !== 200 || !Number.isInteger(offset)) throw toApiError(head.status, head.body);
      return offset;
    } catch (error) {
      if (!(error instanceof UploadInterrupted) || attempt + 1 >= RESUME_ATTEMPTS) throw error;
    }
  }
}

/** The right way in for the file's size. */
export function uploadAttachment(
  ticketId: string,
  file: File,
  onProgress: Progress,
  signal: AbortSignal,
): Promise<Attachment> {
  return file.size >= RESUMABLE_FROM_BYTES
    ? uploadResumable(ticketId, file, onProgress, signal)
    : uploadMultipart(ticketId, file, onProgress, signal);
}
