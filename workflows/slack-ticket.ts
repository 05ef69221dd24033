// One ticket's life in one Slack workspace (`slack-ticket/<integrationId>/<ticketId>`): woken by the Slack request
// handler with what people did in Slack about the ticket.
//
//   for each thing done in Slack (a click, a command, a thread reply): apply it through the domain, as the person
//     who did it (same permissions, same outbox), then answer them where Slack asked (response_url, ephemeral), and
//     post what it calls for (the ticket's message in a DM, for "Discuss in DM")
//   for each batch of ticket events: hand it to the installation's sync workflow (workflows/slack-sync.ts), the one
//     writer of ticket events (activities/slack/sync.ts, syncSlackEvents). Only runs started before ticket events
//     moved there hold these; kept so that they finish
//   Slack says the bot is gone (uninstalled, token revoked): pause with that reason, keep every piece of work,
//     and go on when the workspace is installed again (a signal) or found connected (checked hourly)
//   wait a while for more work, then end (the next wake starts a new run)
//
// One workflow per ticket per workspace keeps a person's clicks in order. It and the installation's sync workflow
// never post under the same key: it posts only DM parents (`parent/<ticket>/<D…>`), the sync only rule channels'
// parents (C…/G…), replies and DMs keyed by event, so the two writers never race for one message.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { SlackActivities } from '../activities/slack/index.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import {
  answerActivityOptions,
  SLACK_DISCONNECTED,
  SLACK_REFUSED,
  type SlackTicketInput,
  type SlackTicketWork,
  slackResumeSignal,
  slackTicketWorkSignal,
} from './slack-contract.ts';
import type { SlackOp } from './slack-thread-plan.ts';

const db = proxyActivities<SlackActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', nonRetryableErrorTypes: ['TicketGone'] },
});

const slack = proxyActivities<SlackActivities>({
  // A few calls of at most SLACK_TIMEOUT_MS each; a worker that died in the middle hands the message to the retry
  // (which finds what it posted) within half a minute.
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    nonRetryableErrorTypes: [SLACK_DISCONNECTED, SLACK_REFUSED, 'TicketGone'],
  },
});

const answer = proxyActivities<SlackActivities>(answerActivityOptions);

const batches = proxyActivities<SlackActivities>({
  // A batch's messages, each conversation in order: longer than one message, and a channel's pace may add waits.
  startToCloseTimeout: '2 minutes',
  // It reports after each message (at most a pace wait and two calls apart): a worker killed mid-batch is noticed
  // within half a minute, not the batch's whole limit (test/slack-kill.test.ts).
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    nonRetryableErrorTypes: [SLACK_DISCONNECTED, 'TicketGone'],
  },
});

const IDLE_WAIT = '10 minutes';
const RECHECK_PAUSED = '1 hour';
const STEPS_PER_RUN = 500;

function failureType(error: unknown): string | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

class SlackTicket {
  private readonly input: SlackTicketInput;
  private events: number[];
  private inbound: string[];
  private resumed = false;
  private steps = 0;

  constructor(input: SlackTicketInput) {
    this.input = input;
    this.events = [...(input.pendingEventIds ?? [])];
    this.inbound = [...(input.pendingInboundIds ?? [])];
    setHandler(slackTicketWorkSignal, (work: SlackTicketWork) => {
      for (const id of work.eventIds) if (!this.events.includes(id)) this.events.push(id);
      for (const id of work.inboundIds) if (!this.inbound.includes(id)) this.inbound.push(id);
    });
    setHandler(slackResumeSignal, () => {
      this.resumed = true;
    });
  }

  private get ref() {
    const { organizationId, integrationId, ticketId } = this.input;
    return { organizationId, integrationId, ticketId };
  }

  async run(): Promise<void> {
    for (;;) {
      while (this.inbound.length > 0 || this.events.length > 0) {
        try {
          await this.step();
        } catch (error) {
          if (failureType(error) !== SLACK_DISCONNECTED) throw error;
          await this.waitUntilConnected();
        }
        if (this.steps >= STEPS_PER_RUN || workflowInfo().continueAsNewSuggested) return this.continueAsNew();
      }
      if (!(await condition(() => this.inbound.length > 0 || this.events.length > 0, IDLE_WAIT))) return;
    }
  }

  /** People first: a click waits for its answer, events only for their messages. */
  private async step(): Promise<void> {
    this.steps++;
    if (this.inbound.length > 0) {
      const inboundId = this.inbound[0]!;
      const outcome = await db.applySlackInbound({ ...this.ref, inboundId });
      for (const op of outcome.ops) await this.deliver(op);
      if (outcome.respond)
        await answer.respondToSlack({ ...this.ref, inboundId }).catch((error: unknown) => {
          if (!(error instanceof ActivityFailure)) throw error;
        });
      this.inbound.shift();
      return;
    }
    const batch = this.events.slice(0, 50);
    // One activity per batch (activities/slack/sync.ts): it hands the batch to the installation's sync workflow.
    await batches.syncSlackEvents({ ...this.ref, eventIds: batch });
    this.events = this.events.filter((id) => !batch.includes(id));
  }

  /** One message; one Slack refused for good is recorded (by the activity) and the thread goes on. */
  private async deliver(op: SlackOp): Promise<void> {
    try {
      await slack.deliverSlackOp({ ...this.ref, op });
    } catch (error) {
      if (failureType(error) !== SLACK_REFUSED) throw error;
    }
  }

  private async waitUntilConnected(): Promise<void> {
    await db.pauseSlackThread(this.ref);
    for (;;) {
      this.resumed = false;
      await condition(() => this.resumed, RECHECK_PAUSED);
      if ((await db.slackConnection(this.ref)).connected) break;
      // A workspace away for months must not grow one history without end: the next run waits on.
      if (workflowInfo().continueAsNewSuggested) return this.continueAsNew();
    }
    await db.resumeSlackThread(this.ref);
  }

  private continueAsNew(): Promise<never> {
    return continueAsNewWithHandlersDone<typeof slackTicketWorkflow>(() => [
      { ...this.ref, pendingEventIds: this.events, pendingInboundIds: this.inbound },
    ]);
  }
}

export async function slackTicketWorkflow(input: SlackTicketInput): Promise<void> {
  return new SlackTicket(input).run();
}
