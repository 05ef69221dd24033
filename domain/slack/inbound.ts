// Recording what arrived from Slack, once, and handing it to the workflow that owns it. The row is written in the
// request, before Slack gets its answer: if that fails, Slack gets an error and retries (events) or the person sees
// it failed (interactions). The hand-over to the workflow (a signal, or an intake's start) is sent right after, not
// waited for: it depends on the Temporal server, whose latency under load was most of the answer's time
// (performance.md, Slack), and the row already holds the work. A hand-over that fails is made again by the sweep
// (`handOverWaitingInbound`, the `slack-inbound-sweep` schedule), which finds rows still `received` a while later.
// A row already there (an Events API retry, a replayed request, a double submit) is not written again; its workflow
// is woken again while it is unapplied, which is harmless (it applies each row once).
import { randomUUID } from 'node:crypto';
import { slackInbound, supportRequests } from '@switchboard/database';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { and, asc, eq, gt, lt, sql } from 'drizzle-orm';
import type { SlackInboundPayload } from '../../common/slack/inbound.ts';
import { ticketSearchAttributes } from '../../temporal-config/index.ts';
import {
  type SlackIntakeInput,
  type SlackTicketInput,
  slackIntakeWorkflowId,
  slackTaskQueueFor,
  slackTicketWorkflowId,
  slackTicketWorkSignal,
  slackWorkflowTypes,
} from '../../workflows/slack-contract.ts';
import type { SlackDeps } from './deps.ts';
import type { SlackWorkspace } from './installations.ts';

export type RecordedInbound = {
  id: string;
  duplicate: boolean;
  status: string;
  outcome: string | null;
  ticketId: string | null;
};

export async function recordSlackInbound(
  deps: SlackDeps,
  workspace: SlackWorkspace,
  dedupeKey: string,
  ticketId: string | null,
  payload: SlackInboundPayload,
  options: { reopenRefused?: boolean } = {},
): Promise<RecordedInbound> {
  const [inserted] = await deps.db
    .insert(slackInbound)
    .values({
      organizationId: workspace.organizationId,
      integrationId: workspace.integrationId,
      dedupeKey,
      kind: payload.kind,
      ticketId,
      payload,
    })
    .onConflictDoNothing()
    .returning();
  // The same thing done again by someone after it was refused (to someone else): it is theirs to try now.
  const [reopened] =
    !inserted && options.reopenRefused
      ? await deps.db
          .update(slackInbound)
          .set({ payload, status: 'received', outcome: null, appliedAt: null })
          .where(
            and(
              eq(slackInbound.integrationId, workspace.integrationId),
              eq(slackInbound.dedupeKey, dedupeKey),
              eq(slackInbound.status, 'refused'),
            ),
          )
          .returning()
      : [];
  if (reopened) {
    await handOverAgain(deps, workspace, reopened.id, ticketId);
    return { id: reopened.id, duplicate: false, status: 'received', outcome: null, ticketId: reopened.ticketId };
  }
  const row =
    inserted ??
    (
      await deps.db
        .select()
        .from(slackInbound)
        .where(and(eq(slackInbound.integrationId, workspace.integrationId), eq(slackInbound.dedupeKey, dedupeKey)))
    )[0]!;
  if (row.status === 'received') handOverSoon(deps, workspace, row.id, ticketId);
  return { id: row.id, duplicate: !inserted, status: row.status, outcome: row.outcome, ticketId: row.ticketId };
}

/**
 * A ticket's hand-overs from this process, in the order its requests were recorded: each waits for the one before
 * (whatever its outcome), so two clicks on one ticket reach its workflow in the order they came, as when the request
 * waited for its signal. Emptied as they finish.
 */
const handOversByTicket = new Map<string, Promise<void>>();

/** The hand-over, not waited for: a failure leaves the row `received` for the sweep, and says so (ids only). */
function handOverSoon(deps: SlackDeps, workspace: SlackWorkspace, inboundId: string, ticketId: string | null): void {
  const key = ticketId ? `${workspace.integrationId}/${ticketId}` : `intake/${inboundId}`;
  const previous = handOversByTicket.get(key) ?? Promise.resolve();
  const mine = previous
    .then(() => handOver(deps, workspace, inboundId, ticketId))
    .catch((error: unknown) =>
      deps.logger.warn(
        { inboundId, integrationId: workspace.integrationId, err: error },
        'a Slack request could not be handed to its workflow yet; the sweep hands it over',
      ),
    )
    .finally(() => {
      if (handOversByTicket.get(key) === mine) handOversByTicket.delete(key);
    });
  handOversByTicket.set(key, mine);
}

/** Rows younger than this are left to the hand-over their request made. */
export const SWEEP_AFTER_MS = 30_000;
/**
 * How long a row is handed over again. What changes a ticket's state (a command, Assign to me, the status menu) for
 * 30 minutes, as long as Slack's response_url through which the person hears back: applied later, it could undo what
 * was done since. What only adds (a thread reply, a note, a new ticket) for a day. Older rows stay `received`, and
 * the health monitor counts them. A hand-over that failed is applied by the sweep 30–90 s late, after any later
 * action on the ticket that did reach its workflow: the one case where a person's actions on a ticket are not
 * applied in the order they came.
 */
const SWEEP_STATE_CHANGES_WITHIN = '30 minutes';
const SWEEP_ADDITIONS_WITHIN = '1 day';

/**
 * Hands over again every row still `received` a while after it arrived (its request's hand-over failed: Temporal
 * unreachable, the process stopped), oldest first, up to `limit`. Each hand-over is idempotent: a signal whose row
 * is already applied changes nothing, and an intake keyed by the row's id is not started twice while it runs.
 */
export async function handOverWaitingInbound(
  deps: SlackDeps,
  options: { olderThanMs?: number; limit?: number } = {},
): Promise<{ handedOver: number; failed: number }> {
  const olderThanMs = options.olderThanMs ?? SWEEP_AFTER_MS;
  const rows = await deps.db
    .select({
      id: slackInbound.id,
      organizationId: slackInbound.organizationId,
      integrationId: slackInbound.integrationId,
      ticketId: slackInbound.ticketId,
    })
    .from(slackInbound)
    .where(
      and(
        eq(slackInbound.status, 'received'),
        lt(slackInbound.createdAt, sql`now() - make_interval(secs => ${olderThanMs / 1000})`),
        gt(
          slackInbound.createdAt,
          sql`now() - (case when ${slackInbound.kind} in ('command', 'assign_me', 'set_status')
            then ${SWEEP_STATE_CHANGES_WITHIN} else ${SWEEP_ADDITIONS_WITHIN} end)::interval`,
        ),
      ),
    )
    .orderBy(asc(slackInbound.createdAt))
    .limit(options.limit ?? 200);
  let failed = 0;
  for (const row of rows) {
    await handOver(deps, row, row.id, row.ticketId).catch((error: unknown) => {
      failed++;
      deps.logger.warn(
        { inboundId: row.id, integrationId: row.integrationId, err: error },
        'Slack sweep: hand-over failed',
      );
    });
  }
  return { handedOver: rows.length - failed, failed };
}

/**
 * A reopened row gets an intake run of its own (the first may still be answering its person): two runs on one row
 * are harmless, since applying takes the row's lock and applies only a `received` row.
 */
async function handOverAgain(deps: SlackDeps, workspace: SlackWorkspace, inboundId: string, ticketId: string | null) {
  if (ticketId || !deps.temporal) return handOver(deps, workspace, inboundId, ticketId);
  await deps.temporal.workflow.start(slackWorkflowTypes.intake, {
    workflowId: `${slackIntakeWorkflowId(inboundId)}/again-${randomUUID()}`,
    taskQueue: slackTaskQueueFor(deps.ticketsTaskQueue),
    args: [{ organizationId: workspace.organizationId, integrationId: workspace.integrationId, inboundId }],
  });
}

async function handOver(
  deps: SlackDeps,
  workspace: Pick<SlackWorkspace, 'organizationId' | 'integrationId'>,
  inboundId: string,
  ticketId: string | null,
) {
  if (!deps.temporal) throw new Error('Temporal is unreachable: the Slack request cannot be handed to its workflow');
  const taskQueue = slackTaskQueueFor(deps.ticketsTaskQueue);
  if (ticketId) {
    const input: SlackTicketInput = {
      organizationId: workspace.organizationId,
      integrationId: workspace.integrationId,
      ticketId,
    };
    await deps.temporal.workflow.signalWithStart(slackWorkflowTypes.ticket, {
      workflowId: slackTicketWorkflowId(workspace.integrationId, ticketId),
      taskQueue,
      args: [input],
      signal: slackTicketWorkSignal,
      signalArgs: [{ eventIds: [], inboundIds: [inboundId] }],
      typedSearchAttributes: ticketSearchAttributes(ticketId, workspace.organizationId, 'slack'),
    });
    return;
  }
  const input: SlackIntakeInput = {
    organizationId: workspace.organizationId,
    integrationId: workspace.integrationId,
    inboundId,
  };
  try {
    await deps.temporal.workflow.start(slackWorkflowTypes.intake, {
      workflowId: slackIntakeWorkflowId(inboundId),
      taskQueue,
      args: [input],
    });
  } catch (error) {
    // The same row handed over twice: its workflow is already running (the id is the key).
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/** A ticket of the workspace's organisation by number (what people type), or null. */
export async function ticketIdByNumber(
  deps: Pick<SlackDeps, 'db'>,
  organizationId: string,
  number: number,
): Promise<string | null> {
  const [row] = await deps.db
    .select({ id: supportRequests.id })
    .from(supportRequests)
    .where(and(eq(supportRequests.organizationId, organizationId), eq(supportRequests.number, number)));
  return row?.id ?? null;
}

export async function ticketNumberOf(
  deps: Pick<SlackDeps, 'db'>,
  organizationId: string,
  ticketId: string,
): Promise<number | null> {
  const [row] = await deps.db
    .select({ number: supportRequests.number })
    .from(supportRequests)
    .where(and(eq(supportRequests.organizationId, organizationId), eq(supportRequests.id, ticketId)));
  return row?.number ?? null;
}

/** A ticket id from a button's value, only if it is the workspace's organisation's (a forged id finds nothing). */
export async function ticketOfOrganization(
  deps: Pick<SlackDeps, 'db'>,
  organizationId: string,
  ticketId: string | undefined,
): Promise<string | null> {
  if (!ticketId || !/^[0-9a-f-]{36}$/i.test(ticketId)) return null;
  const [row] = await deps.db
    .select({ id: supportRequests.id })
    .from(supportRequests)
    .where(and(eq(supportRequests.organizationId, organizationId), eq(supportRequests.id, ticketId)));
  return row?.id ?? null;
}
