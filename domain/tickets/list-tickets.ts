import { customers, type Database, supportRequests } from '@switchboard/database';
import { and, arrayContains, desc, eq, ilike, or, type SQL, sql } from 'drizzle-orm';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { type ListTicketsQuery, listTicketsQuery, type TicketView } from './schemas.ts';
import { toTicketView } from './ticket-record.ts';

export type TicketPage = { data: TicketView[]; nextCursor: string | null };

/** Newest first; every filter narrows, `q` searches subject and description case-insensitively. */
export async function listTickets(db: Database, scope: Scope, rawQuery: ListTicketsQuery): Promise<TicketPage> {
  const query = parseInput(listTicketsQuery, rawQuery);
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const conditions: Array<SQL | undefined> = [
    eq(supportRequests.organizationId, scope.organizationId),
    query.status ? eq(supportRequests.status, query.status) : undefined,
    query.priority ? eq(supportRequests.priority, query.priority) : undefined,
    query.assigneeId ? eq(supportRequests.assigneeId, query.assigneeId) : undefined,
    query.requesterId ? eq(supportRequests.requesterId, query.requesterId) : undefined,
    query.tag ? arrayContains(supportRequests.tags, [query.tag]) : undefined,
    query.q
      ? or(
          ilike(supportRequests.subject, likePattern(query.q)),
          ilike(supportRequests.description, likePattern(query.q)),
        )
      : undefined,
    after
      ? sql`(${supportRequests.createdAt}, ${supportRequests.id}) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`
      : undefined,
  ];
  const rows = await db
    .select({
      ticket: supportRequests,
      requester: { id: customers.id, email: customers.email, name: customers.name },
      cursorTime: sql<string>`to_char(${supportRequests.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(supportRequests)
    .leftJoin(customers, eq(customers.id, supportRequests.requesterId))
    .where(and(...conditions))
    .orderBy(desc(supportRequests.createdAt), desc(supportRequests.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: page.map((r) => toTicketView(r.ticket, r.requester)),
    nextCursor:
      rows.length > query.limit && last ? encodeCursor({ createdAt: last.cursorTime, id: last.ticket.id }) : null,
  };
}

/** `q` is text, not a pattern: %, _ and the escape character itself match literally. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
