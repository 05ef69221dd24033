// Test helpers for attachments: uploads over real HTTP (multipart, and the tus protocol by hand), waiting for the
// pipeline, and the standard test files (the 68-byte EICAR string, a PNG made by jimp).
import { ticketAttachments, ticketEvents } from '@switchboard/database';
import { and, asc, eq, like } from 'drizzle-orm';
import type { ApiResponse, TestApi, TestUser } from '../../test/support/api.ts';
import { testDatabase } from '../../test/support/database.ts';
import { eventually } from '../../test/support/temporal.ts';

/** The standard antivirus test file: harmless, and every scanner reports it. */
export const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*', 'latin1');

export type UploadPart = { name: string; bytes: Buffer | Uint8Array; type?: string };

/** POSTs a multipart body with one `file` part per entry, as a browser's FormData would. */
export async function uploadFiles(
  api: TestApi,
  user: Pick<TestUser, 'cookie'>,
  ticketId: string,
  parts: UploadPart[],
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON answer field by field
): Promise<ApiResponse<any>> {
  const form = new FormData();
  for (const part of parts)
    form.append(
      'file',
      new Blob([new Uint8Array(part.bytes)], { type: part.type ?? 'application/octet-stream' }),
      part.name,
    );
  const response = await fetch(`${api.baseUrl}/api/tickets/${ticketId}/attachments`, {
    method: 'POST',
    headers: { cookie: user.cookie, origin: api.baseUrl },
    body: form,
  });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.includes('json');
  return { status: response.status, body: isJson && text ? JSON.parse(text) : text, headers: response.headers };
}

/** Waits until the attachment's pipeline has reached `status`; returns the row. */
export async function untilStatus(attachmentId: string, status: 'clean' | 'infected' | 'failed', timeoutMs = 30_000) {
  const { db } = testDatabase();
  return eventually(
    async () => {
      const [row] = await db.select().from(ticketAttachments).where(eq(ticketAttachments.id, attachmentId));
      if (row?.scanStatus !== status) throw new Error(`attachment is ${row?.scanStatus ?? 'missing'}, not ${status}`);
      return row;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

/** The attachment events of a ticket, oldest first. */
export async function attachmentEvents(ticketId: string) {
  const { db } = testDatabase();
  const rows = await db
    .select({ type: ticketEvents.type, payload: ticketEvents.payload })
    .from(ticketEvents)
    .where(and(eq(ticketEvents.supportRequestId, ticketId), like(ticketEvents.type, 'attachment.%')))
    .orderBy(asc(ticketEvents.id));
  return rows as Array<{ type: string; payload: { attachment: { id: string }; signature?: string } }>;
}

/** GETs bytes, with the member's session. */
export async function download(api: TestApi, user: Pick<TestUser, 'cookie'>, path: string, headers = {}) {
  const response = await fetch(`${api.baseUrl}${path}`, { headers: { cookie: user.cookie, ...headers } });
  let bytes: Buffer | undefined;
  let failed = false;
  try {
    bytes = Buffer.from(await response.arrayBuffer());
  } catch {
    failed = true;
  }
  return { status: response.status, headers: response.headers, bytes, failed };
}

/**
 * Creates a resumable upload (tus 1.0 creation) as the member; returns its location and the headers every later
 * request of the upload sends.
 */
export async function createTusUpload(
  api: TestApi,
  user: Pick<TestUser, 'cookie'>,
  ticketId: string,
  file: { name: string; size: number; type?: string },
): Promise<{ location: URL; headers: Record<string, string> }> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const headers = { cookie: user.cookie, origin: api.baseUrl, 'tus-resumable': '1.0.0' };
  const metadata = [`ticketId ${b64(ticketId)}`, `filename ${b64(file.name)}`];
  if (file.type) metadata.push(`filetype ${b64(file.type)}`);
  const created = await fetch(`${api.baseUrl}/api/uploads`, {
    method: 'POST',
    headers: { ...headers, 'upload-length': String(file.size), 'upload-metadata': metadata.join(',') },
  });
  if (created.status !== 201) throw new Error(`tus creation answered ${created.status}: ${await created.text()}`);
  return { location: new URL(created.headers.get('location')!, api.baseUrl), headers };
}
