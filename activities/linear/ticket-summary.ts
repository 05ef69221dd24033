// What an issue created from a ticket says about it: the description's summary and the attachment that links back.
import { customers, type Database, supportRequests, user } from '@switchboard/database';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq } from 'drizzle-orm';
import type { InstallationClient } from '../../common/linear/client.ts';
import type { TicketPriority, TicketStatus } from '../../workflows/linear-sync-plan.ts';
import { rawRequest } from './call.ts';

const ATTACHMENT_CREATE = `
  mutation SwitchboardAttachmentCreate($input: AttachmentCreateInput!) {
    attachmentCreate(input: $input) { success attachment { id } }
  }
`;

/**
 * Attaches the ticket's URL to the issue, so Linear shows the ticket in the issue's sidebar. Linear's
 * attachmentCreate is an upsert by issue and URL: a retried attempt changes the same attachment.
 */
export async function attachTicket(
  linear: InstallationClient,
  issueId: string,
  url: string,
  ticket: Pick<TicketForIssue, 'id' | 'number' | 'subject' | 'status'>,
): Promise<void> {
  await rawRequest(linear, ATTACHMENT_CREATE, {
    input: {
      issueId,
      url,
      title: attachmentTitle(ticket),
      subtitle: `Status: ${ticket.status}`,
      metadata: { source: 'switchboard', ticketId: ticket.id, ticketNumber: ticket.number },
    },
  });
}

export type TicketForIssue = {
  id: string;
  number: number;
  subject: string;
  description: string;
  status: TicketStatus;
  priority: TicketPriority;
  tags: string[];
  assigneeEmail: string | null;
  requester: { name: string | null; email: string } | null;
};

export async function loadTicketForIssue(
  db: Database,
  organizationId: string,
  ticketId: string,
): Promise<TicketForIssue> {
  const [row] = await db
    .select({
      ticket: supportRequests,
      assigneeEmail: user.email,
      requesterName: customers.name,
      requesterEmail: customers.email,
    })
    .from(supportRequests)
    .leftJoin(user, eq(user.id, supportRequests.assigneeId))
    .leftJoin(customers, eq(customers.id, supportRequests.requesterId))
    .where(and(eq(supportRequests.id, ticketId), eq(supportRequests.organizationId, organizationId)));
  if (!row)
    throw ApplicationFailure.create({
      type: 'TicketNotFound',
      message: `ticket ${ticketId} does not exist`,
      nonRetryable: true,
    });
  return {
    id: row.ticket.id,
    number: row.ticket.number,
    subject: row.ticket.subject,
    description: row.ticket.description,
    status: row.ticket.status,
    priority: row.ticket.priority,
    tags: row.ticket.tags,
    assigneeEmail: row.assigneeEmail?.toLowerCase() ?? null,
    requester: row.requesterEmail ? { name: row.requesterName, email: row.requesterEmail } : null,
  };
}

export function ticketUrl(publicUrl: string, ticketId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/tickets/${ticketId}`;
}

export function attachmentTitle(ticket: Pick<TicketForIssue, 'number' | 'subject'>): string {
  return `Ticket #${ticket.number}: ${ticket.subject}`;
}

const descriptionLines = 20;
const descriptionChars = 4_000;

/** The issue's description: who asked, how urgent, the first lines of the request, and the way back. */
export function issueDescription(ticket: TicketForIssue, url: string): string {
  const requester = ticket.requester
    ? ticket.requester.name
      ? `${ticket.requester.name} <${ticket.requester.email}>`
      : ticket.requester.email
    : 'unknown';
  let excerpt = ticket.description.split('\n').slice(0, descriptionLines).join('\n');
  if (excerpt.length > descriptionChars) excerpt = `${excerpt.slice(0, descriptionChars)}…`;
  const more = excerpt.length < ticket.description.length ? '\n\n…' : '';
  const quoted = excerpt
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n');
  return [
    `From support ticket [#${ticket.number}](${url}).`,
    '',
    `- **Requester:** ${requester}`,
    `- **Priority:** ${ticket.priority}`,
    `- **Status:** ${ticket.status}`,
    ...(ticket.tags.length > 0 ? [`- **Tags:** ${ticket.tags.join(', ')}`] : []),
    ...(excerpt.trim() ? ['', quoted + more] : []),
    '',
    `[Open the ticket](${url})`,
  ].join('\n');
}
