// Writes the sync's decisions to the ticket through the domain, as the integration: its events carry the actor
// `integration/<installation id>`, which is how the sync recognises its own writes when they come back as events.
import { supportRequests, user } from '@switchboard/database';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq } from 'drizzle-orm';
import { RequestError } from '../../common/errors.ts';
import { memberByEmail } from '../../domain/members/lookup.ts';
import type { Scope } from '../../domain/scope.ts';
import { updateTicket } from '../../domain/tickets/update-ticket.ts';
import type { SyncedValues, SyncPlan } from '../../workflows/linear-sync-plan.ts';
import type { LinearActivityDeps } from './call.ts';
import type { LinkRef } from './contract.ts';
import { normalEmail } from './issue-query.ts';
import { requireLink } from './link-status.ts';

const attempts = 5;

/**
 * Applies status, priority and assignee (by email among the organisation's members; an email no member has
 * leaves the ticket unassigned, as the merge's settleAssignee expects). Values the ticket already holds are not
 * written, so a retried call changes nothing.
 *
 * `expected` is the ticket as the plan saw it. A field someone changed since (to anything but our value) makes
 * the plan stale: nothing is written and `stale` says so, so the workflow plans again from both sides' current
 * values, where that edit meets the Linear change as a conflict instead of being overwritten unseen.
 */
export async function updateTicketFromLinear(
  deps: LinearActivityDeps,
  ref: LinkRef & { changes: SyncPlan['toTicket']; expected?: SyncedValues['ticket'] },
): Promise<{ assigneeEmail: string | null | undefined; stale?: true }> {
  const link = await requireLink(deps.db, ref);
  const scope: Scope = {
    organizationId: ref.organizationId,
    actor: { type: 'integration', id: link.integrationId },
    userId: null,
  };
  let assigneeId: string | null | undefined;
  if (ref.changes.assigneeEmail !== undefined)
    assigneeId = ref.changes.assigneeEmail
      ? ((await memberByEmail(deps.db, ref.organizationId, ref.changes.assigneeEmail))?.userId ?? null)
      : null;

  for (let attempt = 1; ; attempt++) {
    const [ticket] = await deps.db
      .select({
        version: supportRequests.version,
        status: supportRequests.status,
        priority: supportRequests.priority,
        assigneeId: supportRequests.assigneeId,
        assigneeEmail: user.email,
      })
      .from(supportRequests)
      .leftJoin(user, eq(user.id, supportRequests.assigneeId))
      .where(and(eq(supportRequests.id, link.ticketId), eq(supportRequests.organizationId, ref.organizationId)));
    if (!ticket) return { assigneeEmail: undefined };
    if (ref.expected && changedSincePlan(ref.changes, ref.expected, ticket, assigneeId))
      return { assigneeEmail: undefined, stale: true };
    const input: { version: number; status?: string; priority?: string; assigneeId?: string | null } = {
      version: ticket.version,
    };
    if (ref.changes.status !== undefined && ref.changes.status !== ticket.status) input.status = ref.changes.status;
    if (ref.changes.priority !== undefined && ref.changes.priority !== ticket.priority)
      input.priority = ref.changes.priority;
    if (assigneeId !== undefined && assigneeId !== ticket.assigneeId) input.assigneeId = assigneeId;
    if (Object.keys(input).length > 1) {
      try {
        await updateTicket(deps.db, scope, link.ticketId, input as Parameters<typeof updateTicket>[3]);
      } catch (err) {
        // Someone edited the ticket between our read and write: read again; `expected` tells whether they touched
        // a field we write (stale) or only others (reapply).
        if (err instanceof RequestError && err.status === 409 && attempt < attempts) continue;
        // The domain refused the values (a deleted ticket, an assignee who left): retrying cannot change that.
        if (err instanceof RequestError && err.status < 500)
          throw ApplicationFailure.create({
            type: 'TicketUpdateRefused',
            message: `the ticket refused the change: ${err.message}`,
            nonRetryable: err.status !== 409,
          });
        throw err;
      }
    }
    // The assignee the ticket now has, when the change named one: an email no member has leaves it unassigned.
    const assigneeEmail =
      ref.changes.assigneeEmail === undefined ? undefined : assigneeId ? ref.changes.assigneeEmail : null;
    return { assigneeEmail };
  }
}

/** A field the plan writes that holds neither what the plan saw nor what it writes: someone else changed it. */
function changedSincePlan(
  changes: SyncPlan['toTicket'],
  expected: SyncedValues['ticket'],
  current: { status: string; priority: string; assigneeId: string | null; assigneeEmail: string | null },
  assigneeId: string | null | undefined,
): boolean {
  if (changes.status !== undefined && current.status !== changes.status && current.status !== expected.status)
    return true;
  if (changes.priority !== undefined && current.priority !== changes.priority && current.priority !== expected.priority)
    return true;
  return (
    assigneeId !== undefined &&
    current.assigneeId !== assigneeId &&
    normalEmail(current.assigneeEmail) !== expected.assigneeEmail
  );
}
