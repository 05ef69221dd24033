// Keyset pagination over (created_at, id) for tickets and comments, and over the id alone for ticket events (their
// id is the outbox sequence, which is already the order they happened in). The cursor is opaque to clients:
// base64url of the last row's key. created_at travels as PostgreSQL's own microsecond text rather than a JS Date,
// which would round to milliseconds and skip or repeat rows created within the same millisecond.
import { badRequest } from '../../common/errors.ts';

export type TicketCursor = { createdAt: string; id: string };

const timestamp = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(cursor: TicketCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id])).toString('base64url');
}

function parse(text: string): unknown {
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function notOurs() {
  return badRequest('cursor is not a cursor this API issued; start again without it', [
    { path: 'cursor', message: 'invalid cursor' },
  ]);
}

/** Anything this API did not issue is a 400 naming the cursor, never a database error. */
export function decodeCursor(text: string): TicketCursor {
  const parsed = parse(text);
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    typeof parsed[0] === 'string' &&
    typeof parsed[1] === 'string' &&
    timestamp.test(parsed[0]) &&
    uuid.test(parsed[1])
  )
    return { createdAt: parsed[0], id: parsed[1] };
  throw notOurs();
}

export function encodeIdCursor(id: number): string {
  return Buffer.from(JSON.stringify([id])).toString('base64url');
}

export function decodeIdCursor(text: string): number {
  const parsed = parse(text);
  if (Array.isArray(parsed) && parsed.length === 1 && Number.isSafeInteger(parsed[0]) && parsed[0] > 0)
    return parsed[0];
  throw notOurs();
}
