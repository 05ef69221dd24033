// A recipient's notifications (`notify/<recipientKey>`): the relay routes events into their rows and wakes this
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
import type { NotificationActivities } from '../activities/notifications/index.ts';
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
// Sending retries for a day with backoff (a channel's outage), then the items are recorded as failed; a permanent
// refusal (no integration, no account) is recorded at once.
const send = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '15 minutes',
    maximumAttempts: 100,
    nonRetryableErrorTypes: [NOTIFY_PERMANENT],
  },
  scheduleToCloseTimeout: '1 day',
});

/** How long an idle workflow stays to take the next wake itself, before it ends. */
const IDLE_MS = 5 * 60_000;
const MAX_ROUNDS = 200;

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

  /** One pass: returns when to look again (null: nothing planned). */
  async round(): Promise<{ wakeAt: number | null; more: boolean }> {
    this.woken = false;
    const situation = await db.loadDueNotifications(this.input);
    if (situation.items.length === 0) return { wakeAt: null, more: false };
    const plan = planNotifications(situation, Date.now());
    if (plan.decisions.length > 0) await db.recordNotificationDecisions({ ...this.input, decisions: plan.decisions });
    for (const planned of plan.sends) {
      try {
        await send.sendNotifications({ ...this.input, ...planned });
      } catch (error) {
        // Out of retries, or refused for good: recorded on the items (and in the fatigue view), never dropped silently.
        await db.recordNotificationDecisions({
          ...this.input,
          decisions: [{ ids: planned.ids, status: 'failed', reason: failureReason(error) }],
        });
      }
    }
    return { wakeAt: plan.wakeAt ? Date.parse(plan.wakeAt) : null, more: situation.more };
  }
}

export async function notifyRecipientWorkflow(input: NotifyRecipientInput): Promise<void> {
  const recipient = new Recipient(input);
  for (let i = 0; i < MAX_ROUNDS; i++) {
    const { wakeAt, more } = await recipient.round();
    if (more || recipient.woken) continue;
    const wait = wakeAt === null ? IDLE_MS : Math.max(0, wakeAt - Date.now());
    const woken = await condition(() => recipient.woken, wait);
    if (!woken && wakeAt === null) return;
    if (workflowInfo().continueAsNewSuggested) break;
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
