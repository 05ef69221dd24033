// A recipient’s notifications (`notify/<organizationId>/<recipientKey>`): the relay routes events into their rows and wakes this
// workflow at most once per batch; it decides and sends.
//
//   load what waits for them (ids, channels, delivery rules; never the texts), with their preferences
//   plan (workflows/notify-plan.ts): send now, suppress, throttle, defer to the end of quiet hours, or gather
//     into a digest until its window closes
//   record the decisions, send what goes now (one activity per channel, a digest is one message)
//   sleep until the next planned moment (a durable timer: a worker restart during quiet hours still sends on time)
//     or the next wake; with nothing planned and nothing new for a while, end (the next wake starts it again)
//
// A critical alert with an escalation has its own workflow (`notify-alert/<alertId>`): it waits for an
// acknowledgement until the rule's deadline, and otherwise tells the escalation's recipients.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { DecisionInput, NotificationActivities } from '../activities/notifications/index.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import {
  alertAcknowledgedSignal,
  NOTIFY_PERMANENT,
  type NotifyAlertInput,
  type NotifyRecipientInput,
  notifyWakeSignal,
} from './notify-contract.ts';
import { planNotifications } from './notify-plan.ts';

const db = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});
// A send retries a few times quickly; a channel that stays down does not hold the recipient's other channels or
// new notifications: its items wait (deferred, with the reason) and go again later, for up to a day, then they are
// recorded as failed. A permanent refusal (no integration, no account) is recorded at once.
const send = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 4,
    nonRetryableErrorTypes: [NOTIFY_PERMANENT],
  },
});

/** How long a channel's failing items wait before the next try, and how long they are tried at all. */
const RETRY_LATER_MS = 5 * 60_000;
/** Notifications per send activity when each is its own message. */
const SEND_CHUNK = 20;

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
const GIVE_UP_AFTER_MS = 24 * 60 * 60_000;

/** How long an idle workflow stays to take the next wake itself, before it ends. */
const IDLE_MS = 5 * 60_000;
const MAX_ROUNDS = 200;

function isPermanent(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && (cause.type === NOTIFY_PERMANENT || cause.nonRetryable === true);
}

function failureReason(error: unknown): string {
  const cause = error instanceof ActivityFailure ? (error.cause ?? error) : error;
  return cause instanceof ApplicationFailure || cause instanceof Error ? cause.message : 'the send failed';
}

class Recipient {
  woken = false;
  readonly input: NotifyRecipientInput;
  constructor(input: NotifyRecipientInput) {
    this.input = input;
    setHandler(notifyWakeSignal, () => {
      this.woken = true;
    });
  }

  /** One pass: when to look again (null: nothing planned), whether more wait, whether anything was done. */
  async round(): Promise<{ wakeAt: number | null; more: boolean; progressed: boolean }> {
    this.woken = false;
    const situation = await db.loadDueNotifications(this.input);
    const plan = planNotifications(situation, Date.now());
    if (plan.decisions.length > 0) await db.recordNotificationDecisions({ ...this.input, decisions: plan.decisions });
    // Channels side by side: a slow one does not hold the others (in-app is a row update).
    const failingSince = new Map(
      situation.items.map((i) => [i.id, i.failingSince ? Date.parse(i.failingSince) : Date.now()]),
    );
    let retryAt: number | null = null;
    await Promise.all(
      plan.sends.map(async (planned) => {
        // A digest is one message; other sends go in chunks, one activity each, so one call stays short.
        for (const chunk of planned.digest ? [planned.ids] : chunks(planned.ids, SEND_CHUNK))
          try {
            await send.sendNotifications({ ...this.input, ...planned, ids: chunk });
          } catch (error) {
            const decision = this.afterFailure(error, chunk, failingSince);
            await db.recordNotificationDecisions({ ...this.input, decisions: [decision] });
            if (decision.deliverAfter)
              retryAt = Math.min(retryAt ?? Number.POSITIVE_INFINITY, Date.parse(decision.deliverAfter));
          }
      }),
    );
    const wakeAt = plan.wakeAt ? Date.parse(plan.wakeAt) : null;
    return {
      // A failed send's items come back deferred: look again when they are due.
      wakeAt: wakeAt === null ? retryAt : retryAt === null ? wakeAt : Math.min(wakeAt, retryAt),
      more: situation.more,
      progressed: plan.decisions.length > 0 || plan.sends.length > 0,
    };
  }

  /** Refused for good, or failing for a day: failed, with the reason; otherwise tried again later. */
  afterFailure(error: unknown, ids: number[], failingSince: Map<number, number>): DecisionInput {
    const reason = failureReason(error);
    const first = Math.min(...ids.map((id) => failingSince.get(id) ?? Date.now()));
    if (isPermanent(error) || Date.now() - first > GIVE_UP_AFTER_MS) return { ids, status: 'failed', reason };
    return {
      ids,
      status: 'deferred',
      reason: `the send failed, trying again: ${reason}`,
      deliverAfter: new Date(Date.now() + RETRY_LATER_MS).toISOString(),
      failing: true,
    };
  }
}

export async function notifyRecipientWorkflow(input: NotifyRecipientInput): Promise<void> {
  const recipient = new Recipient(input);
  for (let i = 0; i < MAX_ROUNDS && !workflowInfo().continueAsNewSuggested; i++) {
    const { wakeAt, more, progressed } = await recipient.round();
    // More waiting is planned at once only while passes get somewhere: a page of digests whose windows are still
    // open would otherwise be reloaded without end.
    if ((more && progressed) || recipient.woken) continue;
    // At least a second: a time the database saw as due a moment ago must not make a loop without a pause.
    const wait = wakeAt === null ? IDLE_MS : Math.max(1000, wakeAt - Date.now());
    await condition(() => recipient.woken, wait);
    // The flag, not the condition's result: a wake that arrives with the idle timer's end still counts.
    if (!recipient.woken && wakeAt === null) return;
  }
  return continueAsNewWithHandlersDone<typeof notifyRecipientWorkflow>(() => [input]);
}

export async function notifyAlertWorkflow(input: NotifyAlertInput): Promise<'acknowledged' | 'escalated'> {
  let acknowledged = false;
  setHandler(alertAcknowledgedSignal, () => {
    acknowledged = true;
  });
  const wait = Math.max(0, Date.parse(input.escalateAt) - Date.now());
  if (await condition(() => acknowledged, wait)) return 'acknowledged';
  // The row decides: an acknowledgement whose signal was lost (the workflow was not yet started) still counts.
  const outcome = await db.escalateAlert(input);
  return outcome.escalated ? 'escalated' : 'acknowledged';
}
