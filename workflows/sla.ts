// The SLA watch (`sla/<ticketId>`): for a ticket with a first-response or resolution deadline, warn once a share
// of the window (ticket created → due) has passed and report the breach at the due time, as ticket events
// through the outbox. The database is the source of truth: the watch re-reads the ticket whenever the ticket
// workflow says it changed, and the activity re-checks the deadline under the ticket lock before writing.

import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  TemporalFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { DbActivities, SlaTicketFacts } from '../activities/db/index.ts';
import { coreIntegrationTypes, workflowIds } from '../temporal-config/index.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import { type SlaMilestone, type SlaWatchInput, slaStateQuery, slaTicketChangedSignal } from './messages.ts';
import type { Subscription, SubscriptionContext } from './registry.ts';
import { slaInterest } from './sla-plan-events.ts';

export { DEFAULT_SLA_WARNING_SHARE } from './sla-plan-events.ts';

const { loadSlaTicket, emitSlaEvent } = proxyActivities<DbActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

export async function slaWatchWorkflow(input: SlaWatchInput): Promise<void> {
  if (!(input.warningShare > 0 && input.warningShare < 1)) {
    throw ApplicationFailure.nonRetryable(`warningShare must be between 0 and 1, got ${input.warningShare}`);
  }
  let changed = false;
  const emitted = new Set<string>();
  let planned: SlaMilestone[] = [];
  let replans = 0;
  setHandler(slaTicketChangedSignal, () => {
    changed = true;
  });
  setHandler(slaStateQuery, () => ({ planned, emitted: [...emitted], replans }));

  for (;;) {
    if (workflowInfo().continueAsNewSuggested)
      return continueAsNewWithHandlersDone<typeof slaWatchWorkflow>(() => [input]);
    changed = false;
    const facts = await loadSlaTicket({ organizationId: input.organizationId, ticketId: input.ticketId });
    replans += 1;
    for (const e of facts?.emitted ?? []) emitted.add(milestoneKey(e));
    planned = facts
      ? planMilestones(facts, input.warningShare, Date.now()).filter((m) => !emitted.has(milestoneKey(m)))
      : [];
    const next = planned[0];
    if (!next) {
      // Nothing left to watch. A change that raced in is re-read; later ones restart the watch from the ticket workflow.
      if (changed) continue;
      return;
    }
    const wait = next.at - Date.now();
    if (wait > 0 && (await condition(() => changed, wait))) continue;
    if (changed) continue;
    await emitSlaEvent({
      organizationId: input.organizationId,
      ticketId: input.ticketId,
      type: next.type,
      kind: next.kind,
      dueAt: next.dueAt,
      elapsedShare: next.type === 'sla.warning' ? elapsedShare(facts!.createdAt, next.dueAt, Date.now()) : undefined,
    });
    // Whatever the outcome (written, written by an earlier attempt, no longer applies), this milestone is done;
    // the next loop re-reads the ticket.
    emitted.add(milestoneKey(next));
  }
}

/**
 * The milestones still ahead for a ticket, soonest first. A solved or closed ticket has none; a first response
 * deadline ends when the first response is recorded. A deadline already past when planned gets only its breach:
 * a warning after the fact tells no one anything.
 */
export function planMilestones(facts: SlaTicketFacts, warningShare: number, now: number): SlaMilestone[] {
  if (facts.status === 'solved' || facts.status === 'closed') return [];
  const created = Date.parse(facts.createdAt);
  const deadlines: Array<[SlaMilestone['kind'], string | null]> = [
    ['first_response', facts.firstRespondedAt === null ? facts.firstResponseDueAt : null],
    ['resolution', facts.resolutionDueAt],
  ];
  const breachedAlready = new Set(
    facts.emitted.filter((e) => e.type === 'sla.breached').map((e) => `${e.kind}|${e.dueAt}`),
  );
  const milestones: SlaMilestone[] = [];
  for (const [kind, dueAt] of deadlines) {
    if (dueAt === null) continue;
    const due = Date.parse(dueAt);
    milestones.push({ kind, type: 'sla.breached', dueAt, at: due });
    if (due > now && due > created && !breachedAlready.has(`${kind}|${dueAt}`)) {
      milestones.push({ kind, type: 'sla.warning', dueAt, at: created + Math.round(warningShare * (due - created)) });
    }
  }
  return milestones.sort((a, b) => a.at - b.at || (a.type === 'sla.warning' ? -1 : 1));
}

function milestoneKey(m: { type: string; kind: string; dueAt: string }): string {
  return `${m.type}|${m.kind}|${new Date(m.dueAt).toISOString()}`;
}

function elapsedShare(createdAt: string, dueAt: string, now: number): number {
  const created = Date.parse(createdAt);
  const share = (now - created) / (Date.parse(dueAt) - created);
  return Math.round(Math.min(1, Math.max(0, share)) * 100) / 100;
}

/**
 * The side of the watch in ticket workflows of earlier releases (the outbox relay now signals the watch itself,
 * see activities/db/sla-relay.ts): start it when a ticket has an open deadline, tell it when a change may move one.
 */
export const slaSubscription: Subscription = {
  name: 'sla',
  eventTypes: ['ticket.created', 'ticket.updated', 'comment.created'],
  async handle(event, ctx) {
    const interest = slaInterest(event);
    if (interest === 'start') await startOrSignalWatch(ctx);
    else if (interest === 'nudge') await signalWatchIfRunning(ctx);
  },
};

/** The watch is a child that outlives the ticket workflow's runs (ABANDON), so it survives continue-as-new. */
async function startOrSignalWatch(ctx: SubscriptionContext): Promise<void> {
  const workflowId = workflowIds.sla(ctx.ticketId);
  // Two rounds cover the watch finishing between "already started" and the signal.
  for (let round = 0; round < 2; round++) {
    try {
      await startChild(slaWatchWorkflow, {
        workflowId,
        args: [
          { ticketId: ctx.ticketId, organizationId: ctx.organizationId, warningShare: ctx.settings.slaWarningShare },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: ctx.searchAttributes(coreIntegrationTypes.sla),
      });
      return;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    if (await signalWatchIfRunning(ctx)) return;
  }
}

async function signalWatchIfRunning(ctx: SubscriptionContext): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(workflowIds.sla(ctx.ticketId)).signal(slaTicketChangedSignal);
    return true;
  } catch (err) {
    if (err instanceof TemporalFailure) return false; // not running: nothing to re-plan
    throw err;
  }
}
